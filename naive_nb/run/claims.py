"""Telling which request a job answers from the server's own record of it.

A job found in the job list after a submit lost its reply (a *claim*), or a job this store never
sent, carries no request of ours: its record reports the model, the prompt, the seed, the number
of images and their size, and nothing else. These functions compare that record with the
requests a job may belong to, and rebuild the request from it where there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from naive_nb.run.journal import Claim
from naive_nb.run.params import pixel_size
from naive_nb.run.store import ImagePayload

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import Job


def record_summary(job: Job) -> str:
    result = job.result or {}
    return f"its record shows prompt {result.get('prompt')!r}, seed {result.get('seed')!r}"


def match_claims(claims: Sequence[Claim], job: Job) -> tuple[list[Claim], bool]:
    """The claims a finished job's own record is consistent with, and whether it could be
    checked at all (the record reports the prompt or the seed).

    Compared where the record reports them: the model, the prompt, the seed, the number of
    images and their pixel size. What it does not report cannot rule a claim out.
    """
    result = job.result or {}
    prompt, seed = result.get("prompt"), job.seed
    infos = [i for i in result.get("images") or [] if isinstance(i, dict)]
    dims = {(i.get("width"), i.get("height")) for i in infos}
    size = next(iter(dims)) if len(dims) == 1 and None not in next(iter(dims)) else None
    count = len(job.media_urls) or len(infos)
    matches = []
    for claim in claims:
        asked = claim.input
        if job.model and claim.model and job.model != claim.model:
            continue
        if isinstance(prompt, str) and "prompt" in asked and prompt != asked["prompt"]:
            continue
        if seed is not None and isinstance(asked.get("seed"), int) and seed != asked["seed"]:
            continue
        if count and count != int(asked.get("num_images") or 1):
            continue
        if size is not None and "image_size" in asked and size != pixel_size(asked):
            continue
        matches.append(claim)
    checked = isinstance(prompt, str) or seed is not None
    return matches, checked


#: the ``image_size`` presets by pixel size (fal's convention), to name a size a record reports
SIZE_PRESETS = {
    pixel_size({"image_size": name}): name
    for name in (
        "square_hd",
        "square",
        "portrait_4_3",
        "portrait_16_9",
        "landscape_4_3",
        "landscape_16_9",
    )
}
#: input keys a job record reports (the rest of a request is unknown from the record alone)
REPORTED_KEYS = ("prompt", "seed", "image_size", "num_images")


def reconstructed_request(job: Job) -> tuple[str, dict[str, Any], list[str]]:
    """The request of a job this store did not send, as far as the server's record of it says:
    the model, the prompt, the seed and the number of images; the pixel size is added from the
    images themselves (:func:`with_size_from_images`). Returns the model, that input, and what
    is unknown ("other parameters" always: steps, guidance, format... are not reported)."""
    result = job.result or {}
    data: dict[str, Any] = {}
    unknown: list[str] = []
    if isinstance(result.get("prompt"), str):
        data["prompt"] = result["prompt"]
    else:
        unknown.append("prompt")
    if job.seed is not None:
        data["seed"] = job.seed
    else:
        unknown.append("seed")
    count = len(job.media_urls)
    if count:
        data["num_images"] = count
    if not job.model:
        unknown.append("model")
    unknown.append("other parameters")
    return job.model or "unknown model", data, unknown


def with_size_from_images(data: dict[str, Any], images: Sequence[ImagePayload]) -> dict[str, Any]:
    """``data`` with the ``image_size`` its images show: a preset's name, or width and height."""
    sizes = {(image.width, image.height) for image in images if image.width and image.height}
    if len(sizes) != 1:
        return data
    size = next(iter(sizes))
    named = SIZE_PRESETS.get(size)
    return {**data, "image_size": named or {"width": size[0], "height": size[1]}}
