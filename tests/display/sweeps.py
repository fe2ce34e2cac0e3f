"""Finished sweeps made without a server, for the display tests: a plan with axes, and a real
store holding one image file per job (each a flat colour of its own, so a test can tell the
tiles apart in a composite), with chosen jobs failed or never reached."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.plan import Plan, PlannedJob
from naive_nb.run.records import JobRecord
from naive_nb.run.request import Axis, Request
from naive_nb.run.store import ImagePayload, ResultStore

MODEL = "fal-ai/flux/schnell"
PROMPT = "a lighthouse at dusk"


def colour(index: int) -> tuple[int, int, int]:
    """The flat colour of job ``index``'s images (distinct, never white or the failed grey)."""
    return ((index * 67) % 200 + 20, (index * 131) % 200 + 20, (index * 29) % 200 + 40)


def picture(index: int, size: tuple[int, int], image: int = 0, fmt: str = "PNG") -> bytes:
    fill = colour(index * 4 + image)
    buffer = io.BytesIO()
    Image.new("RGB", size, fill).save(buffer, format=fmt)
    return buffer.getvalue()


def sweep(
    store: Path,
    axes: Sequence[Axis],
    *,
    seed: int = 7,
    failed: Mapping[int, str] | None = None,
    not_run: Sequence[int] = (),
    images: int = 1,
    size: tuple[int, int] = (256, 256),
    seeds: Sequence[int] | None = None,
) -> Outcome:
    """One job per combination of the axes' values, in ``itertools.product`` order (the last
    axis fastest), as a plan lists them.

    ``failed`` maps job indices to failure codes; ``not_run`` are jobs a stopped run never
    reached; ``seeds`` gives each job its own seed (a seed varied along an axis)."""
    results = ResultStore(store)
    jobs = []
    for n, coords in enumerate(itertools.product(*(axis.values for axis in axes))):
        data: dict[str, Any] = {"prompt": PROMPT, "image_size": "square", "num_images": images}
        model = MODEL
        for axis, value in zip(axes, coords, strict=True):
            settings = axis.settings(value)
            model = settings.pop("model", model)
            data.update(settings)
        data.setdefault("seed", seeds[n] if seeds is not None else seed)
        jobs.append(PlannedJob(model, data, tuple(coords)))
    plan = Plan(
        request=Request(PROMPT, model=MODEL, axes=tuple(a for a in axes if a.key != "seed")),
        model=MODEL,
        jobs=tuple(jobs),
        axes=tuple(axes),
    )
    outcome = Outcome(plan=plan)
    for index, job in enumerate(jobs):
        if index in not_run:
            continue
        if failed and index in failed:
            failure = FailedJob(
                job.model, job.input, code=failed[index], job_id=f"job-{index:02d}", reason="boom"
            )
            outcome.failures.append(failure)
            outcome.by_index[index] = failure
            continue
        record = JobRecord(
            job_id=f"job-{index:02d}",
            model=job.model,
            input=job.input,
            cache_key=job.key,
            backend="127.0.0.1:9",
            local_preview=True,
            credits_used=0.01,
            created="2025-01-01T00:00:00Z",
            completed="2025-01-01T00:00:01Z",
        )
        payloads = [
            ImagePayload(picture(index, size, k), "image/png", size[0], size[1], job.seed)
            for k in range(images)
        ]
        saved = results.save(record, payloads)
        outcome.records.append(saved)
        outcome.by_index[index] = saved
    return outcome


SEED = Axis("seed", (1, 2, 3), "seed")
STEPS = Axis("num_inference_steps", (2, 4, 8), "steps")
MODELS = Axis("model", ("fal-ai/flux/schnell", "fal-ai/flux/dev"))
GUIDANCE = Axis("guidance_scale", (2.5, 3.5), "guidance")
