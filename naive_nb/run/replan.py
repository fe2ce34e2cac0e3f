"""A loaded run planned again: :func:`replan`.

:func:`replan` plans a :class:`naive_nb.run.rebuilt.RunRecord`'s request again and checks that
it makes the recorded jobs (the same request keys), so a re-run is the same jobs: served from
the store when it holds them, and on the embedded server the same images when it does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from naive_nb.client import ModelInfo
from naive_nb.errors import ValidationError
from naive_nb.run.plan import Plan, plan
from naive_nb.run.problems import PlanProblem, RunRecordProblem
from naive_nb.run.rebuilt import RunRecord
from naive_nb.run.settings import Settings

__all__ = ["replan"]

#: the settings a plan writes into each input its request leaves them out of
DEFAULT_KEYS = ("image_size", "num_images", "output_format")


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
