"""The store's run records: written when a planned run finishes, kept, and read back.

When a run finishes, the session writes its **run record**, ``<store>/_runs/<id>.json``: the
request as it ran (a seed drawn for it written in), the settings' defaults it was planned with,
and every cell of its plan in order (coordinates, model, full input, request key, status, job
id). A job's manifest names only its own request; the run record is what leads from a file of a
sweep back to the whole sweep (:meth:`RunBook.runs_of`).

A record's id names what the run asked and what answered it (the request, each cell's request
key and job id): a run repeated and served from the store has the same id, and its record is
written once (the first, the run that made the jobs, is kept). Records are written whole under a
name of their own and moved into place (the store's ``write_atomic``): kernels may share a store.

Read back (:func:`read_run_file`, :func:`read_run`), a run record is a complete
:class:`naive_nb.run.rebuilt.RunRecord`: every cell of the plan, in order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from naive_nb._version import __version__
from naive_nb.run.cache import canonical_json
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.problems import RunRecordProblem
from naive_nb.run.rebuilt import RecordedJob, RunRecord, read_json_file, unreadable
from naive_nb.run.records import JobRecord
from naive_nb.run.request import Request
from naive_nb.run.settings import Settings
from naive_nb.run.store import write_atomic

__all__ = ["RUNS_DIR", "RUN_KIND", "RunBook", "read_run", "read_run_file", "run_id", "run_json"]

RUNS_DIR = "_runs"
RUN_KIND = "naive-nb run"
FORMAT = 1


def plain(value: Any) -> Any:
    """``value`` as JSON has it (exact decimals as numbers, tuples as lists)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


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


# -- reading one back ----------------------------------------------------------------------------
def read_run_file(path: str | Path) -> RunRecord:
    """A run record (``<store>/_runs/<id>.json``)."""
    path = Path(path)
    return read_run(read_json_file(path), str(path), path.parent.parent)


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
        raise unreadable(location, error) from None
