"""A study's runs: ``naive_nb.load_run(...)`` rebuilds a run from what it left, and
``naive_nb.report(...)`` / ``%naive report`` write the study report of several runs.

``load_run(source, output=None)`` reads, by what ``source`` is:

- a run record, ``<store>/_runs/<id>.json`` (the whole run, every cell in order);
- a job's ``manifest.json`` (or its folder), or an image file from the store: the run record
  that lists the job when the store has one (a sweep's file leads back to the whole sweep),
  else the job's own request;
- a picture saved by ``r.grid().save(...)`` (its ``naive`` chunk), or the ``grid.json`` that
  ``save_images`` writes;
- a saved notebook (``.ipynb``): the output numbered ``output`` among its outputs that carry a
  naive-nb record (0 is the first, -1 the last; it may be left out when there is one);
- data: an output's metadata (``{"naive": {...}}``, or the ``{...}`` inside it), a whole
  output as a notebook stores it (``{"output_type": ..., "metadata": {...}}``), a grid's spec.

It gives back a :class:`LoadedRun`: ``.request`` is the exact request (the sweep, its seeds
concrete), ``.rerun()`` runs it again in this kernel's session, checked first to make the very
jobs on record: served from the store when it holds them (no request, no credits), made again
when not (on the embedded server, the same images).

A report of "a whole notebook's runs" is, by default, the runs of this kernel session (every
planned run it finished, a run repeated from the store once): what the kernel knows for sure
while the notebook is open, since the ``.ipynb`` on disk may not be saved yet, and what a
papermill run executes. ``notebook=PATH`` (``--from PATH``) reports a saved notebook instead:
each of its outputs' runs, served from the store (cache only: nothing is sent).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb.notebook import current

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.display.result import NaiveResult
    from naive_nb.run import Outcome, Plan, Request, Session
    from naive_nb.run.runs import RecordedJob, RunRecord

__all__ = ["LoadRunError", "LoadedRun", "load_run", "load_runs", "report", "session_results"]

_IMAGES = (".png", ".jpg", ".jpeg", ".webp")
_SOURCES = (
    "a run record (<store>/_runs/<id>.json), a job's manifest.json or its folder, an image "
    "from the store, a picture saved by r.grid().save(...), a saved notebook (.ipynb, with "
    'output=N), or an output\'s {"naive": ...} metadata'
)


class LoadRunError(ValueError):
    """A run that cannot be loaded, re-run or reported; the message says why and what would
    do. ``text`` is the message without the name of the call it concerns (``subject``), for a
    front end that names it its own way (``%naive report``)."""

    def __init__(self, text: str, subject: str = "load_run") -> None:
        super().__init__(f"{subject}: {text}")
        self.text = text
        self.subject = subject


class LoadedRun:
    """A run rebuilt from what it left (see the module docstring)."""

    def __init__(self, record: RunRecord, where: str) -> None:
        self.record = record
        #: where it was read from, in words (a file, an output of a notebook, data)
        self.where = where

    @property
    def request(self) -> Request:
        """The request as it ran: the sweep, and its seeds concrete (``Request.to_json()``
        and ``Request.from_json()`` round-trip it)."""
        return self.record.request

    @property
    def jobs(self) -> tuple[RecordedJob, ...]:
        """The jobs the source records (model, full input, job id, status, place)."""
        return self.record.jobs

    @property
    def job_ids(self) -> list[str]:
        return self.record.job_ids

    @property
    def line(self) -> str | None:
        """The ``%naive`` line that asks for this request, or None when no line can (a model
        axis, say; ``naive_nb.compare`` can)."""
        from naive_nb.notebook.cells import CannotWrite, to_line

        try:
            return to_line(self.request)
        except CannotWrite:
            return None

    def plan(self, session: Session | None = None) -> Plan:
        """The request planned again in ``session`` (the kernel's when None) and checked to
        make the jobs on record; nothing is sent (a model the documented catalog lacks is
        looked up in the server's)."""
        return _replan(self.record, session or current.session())

    def rerun(
        self,
        *,
        refresh: bool = False,
        cache_only: bool = False,
        confirm: bool = False,
        session: Session | None = None,
    ) -> NaiveResult:
        """Run it again in ``session`` (the kernel's when None), as ``compare()`` runs a sweep:
        each job the store holds is served from it (no request, no credits); ``refresh`` makes
        them all again, ``cache_only`` sends nothing and fails on a miss; ``confirm`` runs a
        sweep above the caps. Raises :class:`LoadRunError` when the request no longer makes the
        jobs on record (nothing is sent)."""
        from naive_nb.notebook.compare import run_plan

        session = session or current.session()
        request = replace(self.request, refresh=refresh, cache_only=cache_only)
        plan = _replan(replace(self.record, request=request), session)
        return run_plan(plan, confirm=confirm, session=session)

    def __repr__(self) -> str:
        request = self.request
        axes = [f"seed ({len(request.seeds)})"] if len(request.seeds) > 1 else []
        axes += [f"{axis.label} ({len(axis.values)})" for axis in request.axes]
        prompt = request.prompt if len(request.prompt) <= 50 else request.prompt[:47] + "..."
        swept = f", {' x '.join(axes)}" if axes else ""
        return f"<LoadedRun {prompt!r}{swept}, {len(self.jobs)} jobs on record, from {self.where}>"


def load_run(source: Any, *, output: int | None = None) -> LoadedRun:
    """The run ``source`` left (see the module docstring); ``output`` picks an output of a
    saved notebook. Raises :class:`LoadRunError` for a source that holds no naive-nb record."""
    from naive_nb.run import RunRecordProblem

    try:
        if isinstance(source, Mapping):
            return LoadedRun(_from_data(source, ""), "data")
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.suffix.lower() == ".ipynb":
                runs = _notebook_runs(path)
                return _pick(runs, path, output)
            if output is not None:
                raise LoadRunError(
                    f"output= picks an output of a saved notebook (.ipynb); {path.name} is not one."
                )
            return LoadedRun(_from_file(path), str(path))
    except RunRecordProblem as problem:
        raise LoadRunError(_words(problem)) from problem
    raise LoadRunError(
        f"load_run takes a path or an output's metadata (a dict); got {type(source).__name__}. "
        f"It reads {_SOURCES}."
    )


def load_runs(notebook: str | os.PathLike[str]) -> list[LoadedRun]:
    """Every run of a saved notebook, in the order of its outputs (each output with a naive-nb
    record is one)."""
    from naive_nb.run import RunRecordProblem

    try:
        return _notebook_runs(Path(notebook))
    except RunRecordProblem as problem:
        raise LoadRunError(_words(problem)) from problem


# -- reading sources ----------------------------------------------------------------------------
def _from_file(path: Path) -> RunRecord:
    from naive_nb.run import RunRecordProblem
    from naive_nb.run.records import MANIFEST_NAME
    from naive_nb.run.runs import (
        GRID_KIND,
        RUN_KIND,
        read_grid,
        read_manifest,
        read_run,
        read_stored_image,
    )

    if not path.exists():
        raise LoadRunError(f"no such file or folder: {path}")
    if path.is_dir():
        if not (path / MANIFEST_NAME).is_file():
            raise LoadRunError(
                f"the folder {path} holds no {MANIFEST_NAME}: it is not a job's folder "
                f"in a store. load_run reads {_SOURCES}."
            )
        return read_manifest(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = _read_json(path)
        if isinstance(data, dict) and data.get("kind") == RUN_KIND:
            return read_run(data, str(path), path.parent.parent)
        if isinstance(data, dict) and data.get("kind") == GRID_KIND:
            return read_grid(data, str(path))
        if isinstance(data, dict) and {"job_id", "model", "input"} <= set(data):
            return read_manifest(path)
        if isinstance(data, Mapping):
            return _from_data(data, str(path))
    if suffix in _IMAGES:
        from naive_nb.display.figure import read_saved_grid

        try:
            spec = read_saved_grid(path)
        except ValueError:  # a comment that is not a grid's spec (a stored JPEG's provenance)
            spec = None
        except Exception as error:  # not an image Pillow can open
            raise LoadRunError(f"{path} cannot be read as an image ({error}).") from None
        if spec is not None:
            return read_grid(spec, str(path))
        try:
            return read_stored_image(path)
        except RunRecordProblem as problem:
            if problem.code != "no_record":
                raise
            raise LoadRunError(
                f"{path} holds no naive-nb record: no 'naive' text chunk (a grid "
                "saved by r.grid().save(...) has one) and no provenance (an image from the "
                "store has one)."
            ) from None
    raise LoadRunError(f"{path} holds no naive-nb record. load_run reads {_SOURCES}.")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as error:
        raise LoadRunError(f"{path} cannot be read as JSON ({error}).") from None


def _from_data(data: Mapping[str, Any], location: str) -> RunRecord:
    from naive_nb.run.runs import GRID_KIND, RUN_KIND, read_grid, read_output, read_run

    body = data.get("naive")
    metadata = data.get("metadata")
    if isinstance(body, Mapping):
        return read_output(body, location)
    if isinstance(metadata, Mapping) and isinstance(metadata.get("naive"), Mapping):
        return read_output(metadata["naive"], location)
    if data.get("kind") == GRID_KIND:
        return read_grid(data, location)
    if data.get("kind") == RUN_KIND:
        return read_run(data, location)
    if "jobs" in data and ("request" in data or "job_ids" in data):
        return read_output(data, location)
    keys = ", ".join(sorted(str(key) for key in data)[:8]) or "none"
    raise LoadRunError(
        f"this data holds no naive-nb record (its keys: {keys}). load_run reads {_SOURCES}."
    )


def _notebook_runs(path: Path) -> list[LoadedRun]:
    """A :class:`LoadedRun` per output of the notebook at ``path`` that carries a record."""
    from naive_nb.run.runs import read_output

    data = _read_json(path) if path.exists() else None
    if data is None:
        raise LoadRunError(f"no such notebook: {path}")
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise LoadRunError(f"{path} is not a notebook (no cells).")
    runs: list[LoadedRun] = []
    for number, cell in enumerate(data["cells"], start=1):
        for output in cell.get("outputs", ()) if isinstance(cell, dict) else ():
            metadata = output.get("metadata") if isinstance(output, dict) else None
            body = metadata.get("naive") if isinstance(metadata, dict) else None
            if isinstance(body, dict) and ("jobs" in body or "request" in body):
                where = f"{path.name}, output {len(runs)} (cell {number})"
                runs.append(LoadedRun(read_output(body, f"{path} cell {number}"), where))
    return runs


def _pick(runs: Sequence[LoadedRun], path: Path, output: int | None) -> LoadedRun:
    if not runs:
        raise LoadRunError(
            f"{path.name} has no output with a naive-nb record (run its cells and "
            "save it first: the record is each result's output metadata)."
        )
    if output is None and len(runs) == 1:
        return runs[0]
    if output is not None and -len(runs) <= output < len(runs):
        return runs[output]
    listed = "; ".join(f"{n}: {run.where.split(', ', 1)[1]} {run!r}" for n, run in enumerate(runs))
    asked = "" if output is None else f"there is no output={output}. "
    raise LoadRunError(
        f"{path.name} has {len(runs)} outputs with a naive-nb record; {asked}choose one "
        f"with output=N (0 to {len(runs) - 1}, or -1 for the last), or load them all with "
        f"naive_nb.notebook.study.load_runs(). {listed}"
    )


def _words(problem: Exception) -> str:
    code = getattr(problem, "code", "")
    text = str(problem)
    if code == "no_record":
        return f"{text} load_run reads {_SOURCES}."
    if code == "no_request":
        return (
            f"{text} Load one of its jobs instead, from its manifest: "
            "load_run('<store>/<job id>/manifest.json')."
        )
    if code == "not_sent":
        return f"{text} Look at it with %naive get JOB_ID; it cannot be re-run exactly."
    if code == "not_reproduced":
        return f"{text} Nothing was sent."
    return text


# -- planning and running again ------------------------------------------------------------------
def _replan(record: RunRecord, session: Session) -> Plan:
    from naive_nb.client import validate_model
    from naive_nb.notebook.compare import CompareError, plan_words
    from naive_nb.run import PlanProblem, RunRecordProblem
    from naive_nb.run.runs import replan

    def served(model: str) -> Any:
        return validate_model(model, session.client.models())

    try:
        return replan(record, session.settings, served)
    except RunRecordProblem as problem:
        raise LoadRunError(_words(problem)) from problem
    except PlanProblem as problem:
        raise CompareError(plan_words(problem)) from problem


# -- the study report ----------------------------------------------------------------------------
def session_results(session: Session | None = None) -> list[NaiveResult]:
    """The runs of this kernel session (``session``: the kernel's when None) as results, in
    the order they finished; a run repeated from the store (same request, same jobs) once,
    as it first ran."""
    from naive_nb.run.runs import run_id

    session = session or current.session()
    seen: dict[str, Outcome] = {}
    for outcome in session.history:
        seen.setdefault(run_id(outcome), outcome)
    return [_result(outcome) for outcome in seen.values()]


def _result(outcome: Outcome) -> NaiveResult:
    from naive_nb.display.result import NaiveResult
    from naive_nb.notebook import notes

    magics = current.magics()
    sizes = magics.sizes() if magics is not None else None
    return NaiveResult(outcome, sizes=sizes, failure_text=notes.failed_job)


def _replayed(run: LoadedRun, session: Session) -> NaiveResult:
    """``run`` served from the store, quietly (for a report): nothing is sent."""
    from naive_nb.run import CacheMiss

    request = replace(run.request, refresh=False, cache_only=True)
    plan = _replan(replace(run.record, request=request), session)
    try:
        outcome = session.run(plan)
    except CacheMiss as miss:
        raise LoadRunError(
            f"{run.where}: its files are not in the store {session.store.root.name}/ "
            f"(no stored result for {miss.model} with seed {miss.seed}); a report is made from "
            "the files, so run the notebook here first, or point NaiveMagics.store at its store.",
            "report",
        ) from miss
    return _result(outcome)


def report(
    path: str | os.PathLike[str],
    runs: Sequence[NaiveResult | LoadedRun] | None = None,
    *,
    notebook: str | os.PathLike[str] | None = None,
    title: str | None = None,
    session: Session | None = None,
) -> Path:
    """Write a study report (one self-contained HTML file: :mod:`naive_nb.display.report`) of
    ``runs`` (results, or loaded runs, which are served from the store), else of a saved
    ``notebook``'s runs, else of this kernel session's runs (see the module docstring).
    Returns the path written."""
    from naive_nb.display.report import write_report
    from naive_nb.display.result import NaiveResult

    session = session or current.session()
    if runs is not None and notebook is not None:
        raise LoadRunError("give runs or notebook=, not both.", "report")
    if notebook is not None:
        runs = load_runs(notebook)
        if not runs:
            raise LoadRunError(
                f"{Path(notebook).name} has no output with a naive-nb record.", "report"
            )
    elif runs is None:
        runs = session_results(session)
        if not runs:
            raise LoadRunError(
                "this kernel session has run nothing yet, so there is nothing to report. "
                "Run a generation first, or report a saved notebook (notebook=PATH).",
                "report",
            )
    results = [run if isinstance(run, NaiveResult) else _replayed(run, session) for run in runs]
    return write_report(path, results, title=title)
