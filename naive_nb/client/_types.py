"""Typed values returned by the client: plain dataclasses built from the API's JSON."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

__all__ = [
    "JOB_STATUSES",
    "LOCAL_ENGINE",
    "TERMINAL",
    "GeneratedImage",
    "Job",
    "ModelInfo",
    "Notice",
    "Price",
    "Result",
    "as_dict",
    "as_list",
    "check_job_id",
    "parse_time",
    "sniff_content_type",
]

#: every status a job can have, in the order a job goes through them
JOB_STATUSES = ("queued", "processing", "completed", "failed", "cancelled")
#: statuses after which a job never changes again
TERMINAL = frozenset({"completed", "failed", "cancelled"})
#: what the embedded server puts in a job's ``result.engine``: its images are previews
LOCAL_ENGINE = "naive-nb local preview"


def check_job_id(job_id: str) -> str:
    """``job_id`` if it can be a job id (one non-empty URL path segment, at most 200
    characters), else :class:`ValidationError` naming the field ``job_id``."""
    if not isinstance(job_id, str) or not job_id or "/" in job_id or len(job_id) > 200:
        raise ValidationError(
            f"not a job id: {job_id!r}", field="job_id", rule="job_id", value=job_id
        )
    return job_id


def sniff_content_type(data: bytes, declared: str | None) -> str:
    """The MIME type of an image file: PNG and JPEG are told by their bytes, whatever a
    server declared; anything else is the declared type without parameters."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    return (declared or "application/octet-stream").split(";")[0].strip()


def parse_time(value: object) -> datetime | None:
    """ISO 8601 (with ``Z`` or an offset) -> aware datetime; anything else -> None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@dataclass(frozen=True)
class Job:
    """A job as the API reports it. ``raw`` keeps the full reply for anything not modelled here."""

    id: str
    status: str
    model: str | None = None
    type: str | None = None
    progress: float | None = None
    estimated_seconds: float | None = None
    estimated_credits: float | None = None
    credits_used: float | None = None
    error: dict[str, Any] | None = None
    media_urls: tuple[str, ...] = ()
    result: dict[str, Any] | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: ``time.monotonic()`` when this client received the job's 202 (None for a job read back
    #: from the API): ``wait(job)`` paces its first look from it, with no look before.
    accepted_at: float | None = field(default=None, repr=False, compare=False)
    #: True for a job read from the job list (``GET /v1/jobs``): list items carry no ``media``,
    #: ``result`` or ``error``, so such a Job is never taken as the job's full record (``wait``
    #: and ``download`` fetch ``GET /v1/jobs/{id}`` before treating it as finished).
    partial: bool = field(default=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any], *, partial: bool = False) -> Job:
        """A job from its API record; ``partial=True`` for an item of the job list."""
        # Older deployments send only the deprecated `job_id` alias.
        job_id = data.get("id") or data.get("job_id")
        if not isinstance(job_id, str):
            raise ValueError(f"job reply without an id: {sorted(data)}")
        metadata = as_dict(data.get("metadata"))
        estimate = _num(data.get("estimated_seconds"))
        if estimate is None:
            estimate = _num(metadata.get("estimated_seconds"))
        media = as_list(data.get("media"))
        urls = [m["url"] for m in media if isinstance(m, dict) and isinstance(m.get("url"), str)]
        result = data.get("result") if isinstance(data.get("result"), dict) else None
        if not urls and result is not None:  # `media` is the stable place, `result` the fallback
            images = as_list(result.get("images"))
            urls = [
                i["url"] for i in images if isinstance(i, dict) and isinstance(i.get("url"), str)
            ]
        error = data.get("error") if isinstance(data.get("error"), dict) else None
        return cls(
            id=job_id,
            status=str(data.get("status", "unknown")),
            model=data.get("model") if isinstance(data.get("model"), str) else None,
            type=data.get("type") if isinstance(data.get("type"), str) else None,
            progress=_num(data.get("progress")),
            estimated_seconds=estimate,
            estimated_credits=_num(data.get("estimated_credits")),
            credits_used=_num(data.get("credits_used")),
            error=error,
            media_urls=tuple(urls),
            result=result,
            created_at=parse_time(data.get("created_at")),
            started_at=parse_time(data.get("started_at")),
            completed_at=parse_time(data.get("completed_at")),
            metadata=dict(metadata),
            raw=dict(data),
            partial=partial,
        )

    @property
    def done(self) -> bool:
        """True once the job is completed, failed or cancelled."""
        return self.status in TERMINAL

    @property
    def needs_full_record(self) -> bool:
        """True when this record cannot be trusted as the job's last word: a job-list item, or
        a completed job that names no images (what a list item of a finished job looks like)."""
        return self.partial or (self.status == "completed" and not self.media_urls)

    @property
    def idempotency_key(self) -> str | None:
        key = self.metadata.get("idempotency_key")
        return key if isinstance(key, str) else None

    @property
    def seed(self) -> int | None:
        seed = (self.result or {}).get("seed")
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


@dataclass(frozen=True)
class Notice:
    """Why a call is pausing, for a progress line: ``str(notice)`` is a short phrase such as
    ``"rate limited, resuming in 8 s"``.

    ``kind`` is ``"rate_limited"`` (the API's limit is spent, or it answered 429) or
    ``"retrying"`` (a failed request is retried after a backoff); ``seconds`` is how long the
    pause lasts from when the notice is given; ``job_id`` names the job a wait is about.
    """

    kind: str
    seconds: float
    message: str
    job_id: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class GeneratedImage:
    """One downloaded result image.

    ``data`` holds the encoded file bytes (JPEG or PNG), fetched at completion because result URLs
    expire. ``path`` stays None until a store writes the file to disk.
    """

    data: bytes = field(repr=False)
    url: str
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    content_type: str | None = None
    nsfw: bool = False
    path: Path | None = None
    _pil: Image | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def pil(self) -> Image:
        """The image as a Pillow ``Image`` (decoded on first use)."""
        if self._pil is None:
            from PIL import Image as PILImage

            image = PILImage.open(io.BytesIO(self.data))
            image.load()
            self._pil = image
        return self._pil

    @property
    def format(self) -> str:
        """File extension matching the bytes: ``"png"`` or ``"jpeg"``."""
        return sniff_content_type(self.data, self.content_type).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Result:
    """What ``generate`` returns: the finished job, its downloaded images, and the seeds.

    The provider uses one seed for a whole batch (``num_images > 1``), so ``seeds`` repeats that
    seed once per image; ``seed`` is the batch seed (None for models without a seed parameter).
    """

    job: Job
    images: tuple[GeneratedImage, ...]
    model: str
    input: dict[str, Any]
    seed: int | None = None

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(image.seed for image in self.images if image.seed is not None)

    @property
    def local_preview(self) -> bool:
        """True when the images come from naive-nb's embedded server, not the hosted API."""
        return (self.job.result or {}).get("engine") == LOCAL_ENGINE


@dataclass(frozen=True)
class ModelInfo:
    id: str
    name: str
    mode: str = "text-to-image"
    key_params: tuple[str, ...] = ()
    default: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ModelInfo:
        params = as_list(data.get("key_params"))
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", data["id"])),
            mode=str(data.get("mode", "text-to-image")),
            key_params=tuple(str(p) for p in params),
            default=bool(data.get("default", False)),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Price:
    model: str
    num_images: int
    estimated_credits: float
    credit_value_usd: float | None = None
    unit_price_usd: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any], num_images: int) -> Price:
        # Older deployments name the unit price `fal_unit_price_usd`.
        unit = _num(data.get("unit_price_usd"))
        if unit is None:
            unit = _num(data.get("fal_unit_price_usd"))
        return cls(
            model=str(data.get("model", "")),
            num_images=num_images,
            estimated_credits=_num(data.get("estimated_credits")) or 0.0,
            credit_value_usd=_num(data.get("credit_value_usd")),
            unit_price_usd=unit,
            raw=dict(data),
        )

    @property
    def usd(self) -> float | None:
        """Estimated cost in US dollars, from the reply's own credit value (never hard-coded)."""
        if self.credit_value_usd is None:
            return None
        return self.estimated_credits * self.credit_value_usd
