"""A run rebuilt from what it left, as data: :class:`RunRecord` and its :class:`RecordedJob`.

Every source a run can be rebuilt from (its run record, :mod:`naive_nb.run.runbook`; a job's
manifest, a stored image, an output's metadata, a saved grid's spec, :mod:`naive_nb.run.sources`)
is read into a :class:`RunRecord`, and :func:`naive_nb.run.replan.replan` plans it again. The
two helpers the readers share are here too: a source file's JSON (:func:`read_json_file`) and
the problem a record that is not a valid one raises (:func:`unreadable`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naive_nb.run.cache import request_key
from naive_nb.run.problems import RunRecordProblem
from naive_nb.run.request import Request

__all__ = ["KINDS", "RecordedJob", "RunRecord", "read_json_file", "unreadable"]

#: where a :class:`RunRecord` was rebuilt from
KINDS = ("run", "job", "output", "grid")


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


def read_json_file(path: Path) -> Any:
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


def unreadable(location: str, error: Exception) -> RunRecordProblem:
    reason = f"{type(error).__name__}: {error}"
    where = location or "the record"
    return RunRecordProblem(
        "unreadable", f"{where} is not a valid naive-nb record ({reason}).", reason=reason
    )
