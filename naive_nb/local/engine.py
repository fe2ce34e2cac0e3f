"""The job engine: runs accepted jobs through queued -> processing -> completed|failed|cancelled.

A job waits out its queue delay, then for one of `workers` slots, "processes" for its scaled
duration (drawn per job by `Timing`; progress rises with elapsed time), then renders its images
in a worker thread so status requests keep flowing while Pillow works. Credits are charged on
completion only; failed and cancelled jobs are free.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from typing import Any

from naive_nb.local import render
from naive_nb.local.catalog import MODELS, pixel_size
from naive_nb.local.config import ServerConfig
from naive_nb.local.files import FileStore
from naive_nb.local.state import Job, Tenant


class JobEngine:
    def __init__(self, config: ServerConfig, files: FileStore) -> None:
        self.config = config
        self.files = files
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._slots: asyncio.Semaphore | None = None

    def scaled_estimate(self, estimated_seconds: float) -> float | int:
        """What the server announces: the model's typical time at this server's time scale, so a
        client pacing its polls by the estimate meets jobs when they finish, as on the real API."""
        scaled = round(estimated_seconds * self.config.time_scale, 3)
        return int(scaled) if scaled == int(scaled) else scaled

    def duration_for(self, job_id: str, estimated_seconds: float) -> float:
        """The scaled duration, drawn from the server's `Timing`; the same every time for an id."""
        return self.config.timing.duration(job_id, estimated_seconds * self.config.time_scale)

    def queue_wait_for(self, job_id: str) -> float:
        """Scaled seconds the job stays `queued` before it may take a worker (the same per id)."""
        return self.config.timing.queue_wait(job_id, self.config.time_scale)

    def start(self, tenant: Tenant, job: Job, base_url: str) -> None:
        if self._slots is None:  # created here so it binds to the server's own event loop
            self._slots = asyncio.Semaphore(max(1, self.config.workers))
        task = asyncio.get_running_loop().create_task(self._run(tenant, job, base_url))
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))

    def cancel(self, job: Job) -> None:
        job.status = "cancelled"
        job.completed_at = time.time()
        task = self._tasks.pop(job.id, None)
        if task is not None:
            task.cancel()

    async def shutdown(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, tenant: Tenant, job: Job, base_url: str) -> None:
        assert self._slots is not None
        if job.queue_wait > 0:  # the provider's queue, before (and apart from) our workers
            await asyncio.sleep(job.queue_wait)
        async with self._slots:
            if job.finished:  # cancelled while queued
                return
            job.status = "processing"
            job.started_at = time.time()
            job.started_mono = time.monotonic()
            await asyncio.sleep(job.duration)
            if self._should_fail(job):
                job.status = "failed"
                job.error = {
                    "code": "provider_error",
                    "message": self.config.faults.job_failure_message,
                }
                job.completed_at = time.time()
                return
            images = await asyncio.to_thread(_render_job, job)
            if job.finished:  # cancelled while rendering
                return
            self._complete(tenant, job, images, base_url)

    def _should_fail(self, job: Job) -> bool:
        if "[fail]" in str(job.input.get("prompt", "")):
            return True
        return self.config.faults.roll(self.config.faults.job_failure_rate)

    def _complete(
        self, tenant: Tenant, job: Job, images: list[tuple[bytes, bool]], base_url: str
    ) -> None:
        fmt = job.input.get("output_format", "jpeg")
        content_type = "image/png" if fmt == "png" else "image/jpeg"
        width, height = pixel_size(job.input)
        result_images = []
        for index, (data, _flagged) in enumerate(images):
            name = f"{job.id}/{index}.{'png' if fmt == 'png' else 'jpg'}"
            self.files.put(name, data, content_type)
            url = f"{base_url}/files/{name}"
            result_images.append(
                {"url": url, "width": width, "height": height, "content_type": content_type}
            )
            job.media.append({"url": url, "type": "image"})
        job.result = {
            "images": result_images,
            "seed": job.input["seed"],
            "prompt": job.input.get("prompt", ""),
            "has_nsfw_concepts": [flagged for _, flagged in images],
            "timings": {"inference": round(job.duration, 3)},
            "engine": render.ENGINE_LABEL,
        }
        job.status = "completed"
        job.completed_at = time.time()
        tenant.charge(job, job.estimated_credits)


def _render_job(job: Job) -> list[tuple[bytes, bool]]:
    """Render every image of a job; image i uses seed + i, as fal's batch seeding does."""
    data = job.input
    model = MODELS[job.model]
    width, height = pixel_size(data)
    prompt = str(data.get("prompt", ""))
    safety = bool(data.get("enable_safety_checker", True))
    extra = repr(
        sorted((k, v) for k, v in data.items() if k in ("strength", "colors", "style", "image_url"))
    )
    out = []
    for index in range(int(data.get("num_images", 1))):
        request = render.RenderRequest(
            style=model.style,
            prompt=prompt,
            seed=int(data["seed"]) + index,
            width=width,
            height=height,
            steps=int(data.get("num_inference_steps", model.default_steps)),
            guidance=float(data.get("guidance_scale", 3.5)),
            negative_prompt=str(data.get("negative_prompt", "")),
            extra=extra,
            output_format=str(data.get("output_format", "jpeg")),
            safety_checker=safety,
        )
        flagged = safety and render.is_flagged(prompt)
        out.append((render.render_bytes(request), flagged))
    return out


def concrete_seed(job_id: str) -> int:
    """The provider picks a random seed when none is given; ours is drawn from the job id."""
    return random.Random(job_id).randrange(0, 2**31)


def request_fingerprint(body: Any) -> str:
    import json

    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
