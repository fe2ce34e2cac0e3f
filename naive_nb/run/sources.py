"""A run rebuilt from the other things it leaves, each read into a :class:`RunRecord`:

- a job's manifest (:func:`read_manifest`) or a stored image (:func:`read_stored_image`): the
  run record that lists the job, else the job's own request;
- an output's ``{"naive": ...}`` metadata (:func:`read_output`): its ``request``;
- a saved grid's spec (:func:`read_grid`): its ``request``.

A source written before it carried its request gives the request its jobs make
(:func:`request_of_jobs`). A run record itself is read in :mod:`naive_nb.run.runbook`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from naive_nb.run.problems import RunRecordProblem
from naive_nb.run.rebuilt import RecordedJob, RunRecord, read_json_file, unreadable
from naive_nb.run.records import MANIFEST_NAME, JobRecord
from naive_nb.run.request import Request
from naive_nb.run.runbook import RunBook
from naive_nb.run.store import read_provenance

__all__ = [
    "GRID_KIND",
    "read_grid",
    "read_manifest",
    "read_output",
    "read_stored_image",
    "request_of_jobs",
]

#: the ``kind`` of a saved grid's spec (written by the display layer's ``Grid.spec``)
GRID_KIND = "naive-nb grid"


def read_manifest(path: str | Path) -> RunRecord:
    """The run a job's manifest belongs to: the store's run record that lists the job (the
    one that made it first), else the job alone (its own request)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    data = read_json_file(path)
    if not isinstance(data, dict) or not {"job_id", "model", "input"} <= set(data):
        raise RunRecordProblem(
            "no_record", f"{path} is not a job's manifest.", looked_for="manifest", path=str(path)
        )
    try:
        record = JobRecord.from_json(data, path.parent)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise unreadable(str(path), error) from None
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
        raise unreadable(str(path), error) from None
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
        raise unreadable(str(path), error) from None
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
        raise unreadable(location, error) from None
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
        raise unreadable(location, error) from None
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
