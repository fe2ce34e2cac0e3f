"""Runs on record, and a run rebuilt from what it left: :class:`RunBook`, :class:`RunRecord`.

When a run finishes, the session writes its **run record**, ``<store>/_runs/<id>.json``: the
request as it ran (a seed drawn for it written in), the settings' defaults it was planned with,
and every cell of its plan in order (coordinates, model, full input, request key, status, job
id). A job's manifest names only its own request; the run record is what leads from a file of a
sweep back to the whole sweep (:meth:`RunBook.runs_of`).

A run is rebuilt (:class:`RunRecord`) from any of the things it leaves:

- its run record (:func:`read_run_file`);
- a job's manifest (:func:`read_manifest`) or a stored image (:func:`read_stored_image`): the
  run record that lists the job, else the job's own request;
- an output's ``{"naive": ...}`` metadata (:func:`read_output`): its ``request``;
- a saved grid's spec (:func:`read_grid`): its ``request``.

:func:`replan` plans the request again and checks that it makes the recorded jobs (the same
request keys), so a re-run is the same jobs: served from the store when it holds them, and on
the embedded server the same images when it does not.

A record's id names what the run asked and what answered it (the request, each cell's request
key and job id): a run repeated and served from the store has the same id, and its record is
written once (the first, the run that made the jobs, is kept). Records are written whole under a
name of their own and moved into place (the store's ``write_atomic``): kernels may share a store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from naive_nb._version import __version__
from naive_nb.client import ModelInfo
from naive_nb.errors import ValidationError
from naive_nb.run.cache import canonical_json, request_key
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.plan import Plan, plan
from naive_nb.run.problems import PlanProblem, RunRecordProblem
from naive_nb.run.records import MANIFEST_NAME, JobRecord
from naive_nb.run.request import Request
from naive_nb.run.settings import Settings
from naive_nb.run.store import read_provenance, write_atomic

__all__ = [
    "GRID_KIND",
    "RUNS_DIR",
    "RUN_KIND",
    "RecordedJob",
    "RunBook",
    "RunRecord",
    "read_grid",
    "read_manifest",
    "read_output",
    "read_run",
    "read_run_file",
    "read_stored_image",
    "replan",
    "request_of_jobs",
    "run_id",
    "run_json",
]

RUNS_DIR = "_runs"
RUN_KIND = "naive-nb run"
#: the ``kind`` of a saved grid's spec (written by the display layer's ``Grid.spec``)
GRID_KIND = "naive-nb grid"
FORMAT = 1
#: the settings a plan writes into each input its request leaves them out of
DEFAULT_KEYS = ("image_size", "num_images", "output_format")
#: where a :class:`RunRecord` was rebuilt from
KINDS = ("run", "job", "output", "grid")


def plain(value: Any) -> Any:
    """``value`` as JSON has it (exact decimals as numbers, tuples as lists)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


@dataclass(frozen=True)
class RecordedJob:
    """One job as a source records it: its request (``model``, ``input``), what it came to
    (``status``: ``done``, ``cached``, a failure's code, ``not_run``; empty when unknown), its
    ``job_id`` and place (``coords``, by axis label). ``checked``: ``input`` is the full request
    that was sent, so :func:`replan` checks the plan makes it (a failure listed in an output
    keeps only its seed; a job rebuilt from the server's record is partial)."""

    model: str
    input: dict[str, Any]
    job_id: str | None = None
    status: str = ""
    coords: dict[str, Any] = field(default_factory=dict)
    checked: bool = True

    @property
    def key(self) -> str:
        return request_key(self.model, self.input)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedJob:
        """A job as a run record or a saved grid lists it (a tile is a job and its place)."""
        return cls(
            model=str(data["model"]),
            input=dict(data["input"]),
            job_id=data.get("job_id"),
            status=str(data.get("status", "")),
            coords=dict(data.get("coords") or {}),
        )


@dataclass(frozen=True)
class RunRecord:
    """A run rebuilt from what it left: the ``request`` as it ran (sweep and concrete seeds) and
    what the source knows of its ``jobs``.

    ``kind`` says where it came from (:data:`KINDS`); ``complete``: ``jobs`` lists every cell of
    the plan, in order (a run record), else only some (an output lists its finished jobs).
    ``defaults`` are the settings' model and input defaults it was planned with, when recorded.
    ``location`` is the file it was read from (empty for data handed over), ``store`` the store
    its files were in, when known.
    """

    request: Request
    jobs: tuple[RecordedJob, ...] = ()
    kind: str = "run"
    complete: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)
    run_id: str = ""
    version: str = ""
    backend: tuple[str, ...] = ()
    created: str | None = None
    finished: str | None = None
    credits: float | None = None
    location: str = ""
    store: Path | None = None

    @property
    def job_ids(self) -> list[str]:
        return [job.job_id for job in self.jobs if job.job_id]


# -- writing: a finished run's record ---------------------------------------------------------
def run_id(outcome: Outcome) -> str:
    """The id of ``outcome``'s run record: a digest of its request and of each cell's request
    key and job id (a run repeated from the store has the same id). Empty without a plan."""
    if outcome.plan is None:
        return ""
    cells = [[cell.job.key, _job_id(cell.result)] for cell in outcome.cells()]
    body = {"request": plain(outcome.plan.resolved.to_json()), "cells": cells}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()[:24]


def _job_id(result: JobRecord | FailedJob | None) -> str | None:
    return result.job_id if result is not None else None


def run_json(
    outcome: Outcome, settings: Settings, finished: datetime | None = None
) -> dict[str, Any]:
    """The run record of ``outcome`` (a planned run), JSON-ready: see the module docstring."""
    planned = outcome.plan
    if planned is None:
        raise ValueError("only a planned run has a run record")
    end = finished or datetime.now(timezone.utc)
    start = end - timedelta(seconds=outcome.seconds)
    jobs = []
    for cell in outcome.cells():
        entry: dict[str, Any] = {
            "index": cell.index,
            "coords": cell.coords,
            "model": cell.job.model,
            "input": cell.job.input,
            "key": cell.job.key,
            "status": cell.status,
            "job_id": _job_id(cell.result),
        }
        if isinstance(cell.result, FailedJob) and cell.result.reason:
            entry["reason"] = cell.result.reason
        if cell.same_as is not None:
            entry["same_as"] = cell.same_as
        jobs.append(entry)
    records = outcome.records
    data: dict[str, Any] = plain(
        {
            "kind": RUN_KIND,
            "format": FORMAT,
            "id": run_id(outcome),
            "version": __version__,
            "request": planned.resolved.to_json(),
            "chosen_seed": planned.chosen_seed,
            "defaults": {
                "model": settings.model,
                "image_size": settings.image_size,
                "num_images": settings.num_images,
                "output_format": settings.output_format,
            },
            "axes": [axis.to_json() for axis in planned.axes],
            "backend": sorted({r.backend for r in records if r.backend}),
            "local_preview": any(r.local_preview for r in records),
            "credits": round(outcome.credits, 6),
            "seconds": round(outcome.seconds, 3),
            "started": start.isoformat(timespec="seconds"),
            "finished": end.isoformat(timespec="seconds"),
            "interrupted": outcome.interrupted is not None,
            "jobs": jobs,
        }
    )
    return data


class RunBook:
    """The run records of the store at ``root`` (``root/_runs/<id>.json``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.directory = self.root / RUNS_DIR

    def path(self, run_id: str) -> Path:
        return self.directory / f"{run_id}.json"

    def save(self, outcome: Outcome, settings: Settings) -> Path | None:
        """Write the record of ``outcome`` unless the store has it (None for a run without a
        plan: one job collected on its own has its manifest)."""
        if outcome.plan is None:
            return None
        data = run_json(outcome, settings)
        path = self.path(data["id"])
        if path.exists():  # the run that made these jobs is on record already
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)
        write_atomic(path, text.encode("utf-8"))
        return path

    def records(self) -> list[RunRecord]:
        """Every readable run record, newest first (one that cannot be read is left out: it
        may be another kernel's, half way into place under its temporary name)."""
        found = []
        for path in self.directory.glob("*.json") if self.directory.is_dir() else ():
            try:
                found.append(read_run_file(path))
            except RunRecordProblem:
                continue
        return sorted(found, key=lambda record: record.finished or "", reverse=True)

    def runs_of(self, job_id: str) -> list[RunRecord]:
        """The runs whose cells include ``job_id``: the one that made it first (it ran there,
        not from the store), then the newest first."""
        runs = [r for r in self.records() if job_id in r.job_ids]
        return sorted(runs, key=lambda r: not _made_in(r, job_id))


def _made_in(record: RunRecord, job_id: str) -> bool:
    return any(job.job_id == job_id and job.status == "done" for job in record.jobs)


# -- reading: a run from what it left ----------------------------------------------------------
def _json_file(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RunRecordProblem("missing", f"No such file: {path}", path=str(path)) from None
    except OSError as error:
        raise RunRecordProblem("unreadable", f"{path}: {error}", reason=str(error)) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as error:
        raise RunRecordProblem(
            "unreadable", f"{path} is not JSON: {error}", path=str(path), reason=str(error)
        ) from None


def _unreadable(location: str, error: Exception) -> RunRecordProblem:
    reason = f"{type(error).__name__}: {error}"
    where = location or "the record"
    return RunRecordProblem(
        "unreadable", f"{where} is not a valid naive-nb record ({reason}).", reason=reason
    )


def read_run_file(path: str | Path) -> RunRecord:
    """A run record (``<store>/_runs/<id>.json``)."""
    path = Path(path)
    return read_run(_json_file(path), str(path), path.parent.parent)


def read_run(data: Any, location: str = "", store: Path | None = None) -> RunRecord:
    """A run record's data (``location``: where it was read; ``store``: the store it is in)."""
    if not isinstance(data, Mapping) or data.get("kind") != RUN_KIND:
        raise RunRecordProblem(
            "no_record",
            f"{location or 'This data'} is not a run record.",
            looked_for=RUN_KIND,
            path=location,
        )
    try:
        jobs = tuple(RecordedJob.from_json(job) for job in data["jobs"])
        return RunRecord(
            request=Request.from_json(data["request"]),
            jobs=jobs,
            kind="run",
            complete=True,
            defaults=dict(data.get("defaults") or {}),
            run_id=str(data.get("id", "")),
            version=str(data.get("version", "")),
            backend=tuple(data.get("backend") or ()),
            created=data.get("started"),
            finished=data.get("finished"),
            credits=data.get("credits"),
            location=location,
            store=store,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _unreadable(location, error) from None


def read_manifest(path: str | Path) -> RunRecord:
    """The run a job's manifest belongs to: the store's run record that lists the job (the
    one that made it first), else the job alone (its own request)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    data = _json_file(path)
    if not isinstance(data, dict) or not {"job_id", "model", "input"} <= set(data):
        raise RunRecordProblem(
            "no_record", f"{path} is not a job's manifest.", looked_for="manifest", path=str(path)
        )
    try:
        record = JobRecord.from_json(data, path.parent)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _unreadable(str(path), error) from None
    store = path.parent.parent
    runs = RunBook(store).runs_of(record.job_id)
    if runs:
        return runs[0]
    return _job_alone(record, str(path), store)


def _job_alone(record: JobRecord, location: str, store: Path | None) -> RunRecord:
    if not record.request_sent:
        raise RunRecordProblem(
            "not_sent",
            f"Job {record.job_id} was not sent from this store: its request was rebuilt from "
            f"the server's record, which does not report {', '.join(record.unknown) or 'all'} "
            "of it, so its exact request is not known.",
            job_id=record.job_id,
            unknown=list(record.unknown),
        )
    job = RecordedJob(record.model, dict(record.input), record.job_id or None, "done")
    return RunRecord(
        request=request_of_jobs([job]),
        jobs=(job,),
        kind="job",
        complete=True,
        version=record.version,
        backend=(record.backend,) if record.backend else (),
        created=record.created,
        finished=record.completed,
        credits=record.credits_used,
        location=location,
        store=store,
    )


def read_stored_image(path: str | Path) -> RunRecord:
    """The run of an image file from the store, by the provenance inside it: its manifest (and
    so its run) when the file is still beside it, else the request it carries (a file copied
    out of its store names no job: what made it is enough to make it again)."""
    path = Path(path)
    try:
        found = read_provenance(path)
    except (OSError, ValueError) as error:
        raise _unreadable(str(path), error) from None
    if not isinstance(found, dict) or not {"model", "input"} <= set(found):
        raise RunRecordProblem(
            "no_record",
            f"{path} holds no naive-nb record.",
            looked_for="provenance",
            path=str(path),
        )
    manifest = path.parent / MANIFEST_NAME
    if manifest.is_file():
        return read_manifest(manifest)
    try:
        record = JobRecord.from_json({"job_id": "", **found, "files": []}, path.parent)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _unreadable(str(path), error) from None
    return _job_alone(record, str(path), None)


def read_output(body: Mapping[str, Any], location: str = "") -> RunRecord:
    """The run of an output's ``{"naive": body}`` metadata: its ``request``, with the jobs it
    lists (an output saved before outputs carried the request: its jobs' own request, when
    they differ only by seed)."""
    try:
        jobs = [
            RecordedJob(
                model=str(job["model"]),
                input=dict(job["input"]),
                job_id=job.get("job_id"),
                status="cached" if job.get("from_cache") else "done",
                checked=not job.get("request_source"),
            )
            for job in body.get("jobs", ())
        ]
        failed = [
            RecordedJob(
                model=str(failure.get("model", "")),
                input={"seed": failure.get("seed")},
                job_id=failure.get("job_id"),
                status=str(failure.get("code", "failed")),
                checked=False,
            )
            for failure in body.get("failures", ())
        ]
        given = body.get("request")
        request = Request.from_json(given) if isinstance(given, Mapping) else None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _unreadable(location, error) from None
    if request is None:
        sent = [job for job in jobs if job.checked]
        if not sent and jobs:
            unsent = next(job for job in jobs if not job.checked)
            raise RunRecordProblem(
                "not_sent",
                f"Job {unsent.job_id} was not sent from a store: its request was rebuilt from "
                "the server's record, so its exact request is not known.",
                job_id=unsent.job_id,
                unknown=[],
            )
        request = request_of_jobs(sent)
    backend = body.get("backend")
    return RunRecord(
        request=request,
        jobs=(*jobs, *failed),
        kind="output",
        version=str(body.get("version", "")),
        backend=tuple(backend) if isinstance(backend, list) else ((backend,) if backend else ()),
        created=body.get("created"),
        credits=body.get("credits"),
        location=location,
    )


def read_grid(spec: Mapping[str, Any], location: str = "") -> RunRecord:
    """The run of a saved grid's spec (``Grid.save`` / ``save_images``): its ``request``, with
    every tile's job (each tile's input is the full request planned for it)."""
    if spec.get("kind") != GRID_KIND:
        raise RunRecordProblem(
            "no_record",
            f"{location or 'This data'} is not a saved grid's spec.",
            looked_for=GRID_KIND,
        )
    try:
        jobs = tuple(RecordedJob.from_json(tile) for tile in spec.get("tiles", ()))
        given = spec.get("request")
        request = Request.from_json(given) if isinstance(given, Mapping) else None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _unreadable(location, error) from None
    model = spec.get("model")
    return RunRecord(
        request=request if request is not None else request_of_jobs(jobs),
        jobs=jobs,
        kind="grid",
        # the spec's model is the plan's first: a hint for the settings' default model
        defaults={"model": model} if isinstance(model, str) else {},
        version=str(spec.get("version", "")),
        location=location,
    )


def request_of_jobs(jobs: Sequence[RecordedJob]) -> Request:
    """The request that makes exactly ``jobs`` when they differ by their seeds only (one job:
    always): every input key written out, so no setting's default changes it."""
    if not jobs:
        raise RunRecordProblem("no_request", "The record lists no job and no request.", jobs=0)
    first = jobs[0]

    def fixed(job: RecordedJob) -> tuple[str, dict[str, Any]]:
        rest = {k: v for k, v in job.input.items() if k not in ("prompt", "seed")}
        return job.model, {"prompt": job.input.get("prompt", ""), **rest}

    seeds = [job.input.get("seed") for job in jobs]
    same = all(fixed(job) == fixed(first) for job in jobs)
    seeded = all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds)
    if not same or (len(jobs) > 1 and (not seeded or len(set(seeds)) != len(seeds))):
        raise RunRecordProblem(
            "no_request",
            f"The record holds {len(jobs)} jobs that differ by more than their seeds, and no "
            "request (it was written before records carried one).",
            jobs=len(jobs),
        )
    params = {k: v for k, v in first.input.items() if k not in ("prompt", "seed")}
    return Request(
        prompt=str(first.input.get("prompt", "")),
        model=first.model,
        params=params,
        seeds=tuple(int(seed) for seed in seeds if isinstance(seed, int)),
    )


# -- planning it again ---------------------------------------------------------------------------
def replan(record: RunRecord, settings: Settings, served: Callable[[str], ModelInfo]) -> Plan:
    """``record``'s request planned again under ``settings`` (its store, cache and deadline),
    with the defaults it was planned with (recorded, else read from its jobs), and checked: the
    plan makes every recorded job (a complete record: exactly its cells, in order). Raises
    :class:`RunRecordProblem` (``not_reproduced``), or the planner's own problem."""
    error: Exception | None = None
    first: Plan | None = None
    for defaults in _candidate_defaults(record, settings):
        try:
            made = plan(record.request, replace(settings, **defaults), served)
        except (PlanProblem, ValidationError) as problem:
            error = error or problem
            continue
        if _reproduces(made, record):
            return made
        first = first or made
    if first is None and error is not None:
        raise error
    planned = set(first.keys) if first is not None else set()
    missing = [job for job in record.jobs if job.checked and job.key not in planned]
    raise RunRecordProblem(
        "not_reproduced",
        f"The request, planned again, does not make {len(missing) or 'all'} of the "
        f"{len(record.jobs)} jobs on record (the catalog or the request's defaults changed).",
        missing_jobs=[job.job_id for job in missing],
    )


def _reproduces(made: Plan, record: RunRecord) -> bool:
    if record.complete:
        return made.keys == [job.key for job in record.jobs]
    return {job.key for job in record.jobs if job.checked} <= set(made.keys)


def _candidate_defaults(record: RunRecord, settings: Settings) -> list[dict[str, Any]]:
    """The settings' defaults the request may have been planned with, likeliest first: the
    recorded ones, then those its jobs show (each model they use, for the default model)."""
    found: list[dict[str, Any]] = []
    recorded = {
        key: record.defaults[key] for key in ("model", *DEFAULT_KEYS) if key in record.defaults
    }
    sent = [job for job in record.jobs if job.checked]
    shown: dict[str, Any] = {}
    for key in DEFAULT_KEYS:
        values = [job.input[key] for job in sent if key in job.input]
        unset = None if key == "output_format" else getattr(settings, key)
        shown[key] = values[0] if values else unset
    if recorded:
        found.append({**shown, **recorded})
    models = [record.request.model] if record.request.model else []
    models += [str(recorded["model"])] if "model" in recorded else []
    models += [job.model for job in record.jobs if job.model]
    for model in dict.fromkeys(models or [settings.model]):
        candidate = {**shown, "model": model}
        if candidate not in found:
            found.append(candidate)
    return found
