"""The ``{"naive": {...}}`` output metadata: how every image in an output was made.

It travels with the notebook, so a reader can re-make or audit a result from the ``.ipynb`` alone:
model, the full input of each job, seeds, job ids, credits, creation time, the naive-nb version,
the backend host, each file's path and sha256, and (for a planned run) the request that made it,
sweep included, as :meth:`Request.to_json` gives it. It is built from :class:`JobRecord` values,
which never hold the API key. Paths are relative to the notebook (``base``, its working
directory), with ``..`` when the store is elsewhere: never an absolute path of the machine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb._version import __version__
from naive_nb.display.paths import shown_path
from naive_nb.run.records import JobRecord

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.run.plan import Plan
    from naive_nb.run.request import Request


def jsonable(value: Any) -> Any:
    """``json.dumps``' ``default``: decimals as exact numbers, tuples and sets as lists."""
    if isinstance(value, Decimal):  # exact: an integer, or the float whose repr is the decimal
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def request_json(request: Request) -> dict[str, Any]:
    """The request (sweep included) as plain JSON data: what rebuilds the run."""
    data: dict[str, Any] = json.loads(json.dumps(request.to_json(), default=jsonable))
    return data


def output_metadata(
    records: Sequence[JobRecord],
    *,
    failures: Sequence[dict[str, Any]] = (),
    base: Path | None = None,
    created: datetime | None = None,
    plan: Plan | None = None,
) -> dict[str, Any]:
    """Metadata for one result output; ``base`` makes file paths relative (to the notebook);
    ``plan`` adds the request that made it (and the seed drawn for it, if one was)."""
    models = sorted(
        {r.model for r in records} | {str(f.get("model")) for f in failures if f.get("model")}
    )
    credits = [r.credits_used for r in records if r.credits_used is not None and not r.from_cache]
    backends = sorted({r.backend for r in records if r.backend})
    jobs = [
        {
            "job_id": r.job_id,
            "model": r.model,
            "input": r.input,
            "seed": r.seed,
            "credits_used": r.credits_used,
            "created": r.created,
            "completed": r.completed,
            "from_cache": r.from_cache,
            "files": [
                {
                    "path": shown_path(f.path, base),
                    "sha256": f.sha256,
                    "width": f.width,
                    "height": f.height,
                    "content_type": f.content_type,
                }
                for f in r.files
            ],
            # a request this store did not send (rebuilt from the server's record) says so
            **({} if r.request_sent else {"request_source": r.request_source}),
            **({} if r.request_sent else {"unknown_input": list(r.unknown)}),
        }
        for r in records
    ]
    body: dict[str, Any] = {
        "model": models[0] if len(models) == 1 else models,
        "seeds": [r.seed for r in records],
        "job_ids": [r.job_id for r in records],
        "credits": round(sum(c for c in credits if c is not None), 6),
        "created": (created or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "version": __version__,
        "backend": backends[0] if len(backends) == 1 else backends,
        "local_preview": any(r.local_preview for r in records),
        "jobs": jobs,
    }
    if failures:
        body["failures"] = list(failures)
    if plan is not None:
        body["request"] = request_json(plan.resolved)
        if plan.chosen_seed is not None:
            body["chosen_seed"] = plan.chosen_seed
    return {"naive": body}
