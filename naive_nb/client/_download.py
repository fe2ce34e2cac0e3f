"""Downloading a completed job's images: every file at once, each streamed and retried.

Result URLs are pre-signed and may live on another host: no key is sent with them (see
``Transport.fetch``). A completed job naming no images is an error that names the job (it may
have been charged), never a result of no images.
"""

from __future__ import annotations

import asyncio
from typing import Any

from naive_nb.client._retry import Kind
from naive_nb.client._transport import Failed, Transport, retrying
from naive_nb.client._types import GeneratedImage, Job, as_dict, as_list
from naive_nb.client._validation import image_dimensions
from naive_nb.errors import APIConnectionError, JobResultMissing, NotFoundError, ServerError

__all__ = ["download_images"]


async def download_images(
    transport: Transport, job: Job, seed: int | None, data: dict[str, Any]
) -> tuple[GeneratedImage, ...]:
    """The images of a completed ``job``; ``seed`` and ``data`` (the input sent) fill in what
    the job's record leaves out (the batch seed, the size)."""
    if not job.media_urls:
        raise JobResultMissing(job.id, job=job)
    result = job.result or {}
    infos = as_list(result.get("images"))
    nsfw = as_list(result.get("has_nsfw_concepts"))
    batch_seed = job.seed if job.seed is not None else seed
    fallback = image_dimensions(data.get("image_size"))

    async def one(index: int, url: str) -> GeneratedImage:
        info = as_dict(infos[index]) if index < len(infos) else {}
        body, content_type = await _fetch(transport, url, job.id)
        width = info.get("width") if isinstance(info.get("width"), int) else None
        height = info.get("height") if isinstance(info.get("height"), int) else None
        if (width is None or height is None) and fallback:
            width, height = fallback
        return GeneratedImage(
            data=body,
            url=url,
            width=width,
            height=height,
            seed=batch_seed,
            content_type=info.get("content_type") or content_type,
            nsfw=bool(nsfw[index]) if index < len(nsfw) else False,
        )

    return tuple(await asyncio.gather(*(one(i, u) for i, u in enumerate(job.media_urls))))


async def _fetch(transport: Transport, url: str, job_id: str) -> tuple[bytes, str | None]:
    """One result file of the job ``job_id``, retried like a read."""

    async def attempt(_max_wait: float) -> tuple[bytes, str | None] | Failed:
        return await transport.fetch(url)  # the file host is not the API: no limiter

    outcome = await retrying(attempt, transport.policy, transport.rng)
    if not isinstance(outcome, Failed):
        return outcome
    failure = outcome.failure
    if failure.status == 404:
        raise NotFoundError(
            f"result file {url} is gone (result URLs expire)",
            status=404,
            advice="Fetch the job again with client.get(job_id) for fresh URLs.",
            url=url,
            job_id=job_id,
        ) from None
    what = f"download of {url}"
    if failure.kind is Kind.RESPONSE:
        raise ServerError(f"{what} answered HTTP {failure.status}", status=failure.status)
    raise APIConnectionError(f"{what} failed ({outcome.detail})") from None
