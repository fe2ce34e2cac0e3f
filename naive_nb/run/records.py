"""What one finished job left behind: the request, the job, and the files on disk.

A :class:`JobRecord` is the unit of provenance. It is written as the JSON manifest beside the
files, read back by the request cache, embedded (minus file hashes) in each image's own metadata,
and summarised in each output's ``{"naive": ...}`` metadata. It never holds the API key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naive_nb._version import __version__

MANIFEST_NAME = "manifest.json"
#: where a record's request comes from: ``sent`` (exactly what this store sent; the only kind
#: that gets a cache key), ``reconstructed`` (rebuilt from the server's job record, so partial),
#: ``unverified`` (a job a lost submit may have created, which no field of its record could tie
#: to one request of this store)
REQUEST_SOURCES = ("sent", "reconstructed", "unverified")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredImage:
    """One full-size image file in the store."""

    path: Path
    sha256: str
    width: int
    height: int
    content_type: str
    seed: int | None
    index: int
    job_id: str

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    @property
    def pil(self) -> Any:
        """The image as a Pillow image (Pillow is imported on first use only)."""
        from PIL import Image

        with Image.open(self.path) as image:
            image.load()
            return image.copy()

    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        path = self.path
        if relative_to is not None:
            try:
                path = self.path.relative_to(relative_to)
            except ValueError:
                path = self.path
        return {
            "path": path.as_posix(),
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "content_type": self.content_type,
            "seed": self.seed,
            "index": self.index,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Path, job_id: str) -> StoredImage:
        path = Path(data["path"])
        return cls(
            path=path if path.is_absolute() else base / path,
            sha256=str(data["sha256"]),
            width=int(data["width"]),
            height=int(data["height"]),
            content_type=str(data["content_type"]),
            seed=None if data.get("seed") is None else int(data["seed"]),
            index=int(data["index"]),
            job_id=job_id,
        )


@dataclass(frozen=True)
class JobRecord:
    """A finished job: the exact request, what it cost, where its files are."""

    job_id: str
    model: str
    input: dict[str, Any]
    cache_key: str
    backend: str  # host the job ran on, e.g. "api.usenaive.ai" or "127.0.0.1:8765"
    local_preview: bool
    credits_used: float | None
    created: str | None
    completed: str | None
    files: tuple[StoredImage, ...] = ()
    version: str = __version__
    from_cache: bool = field(default=False, compare=False)
    request_source: str = "sent"
    #: input keys the server's record does not report (for a reconstructed request)
    unknown: tuple[str, ...] = ()

    @property
    def seed(self) -> int | None:
        """The seed asked for; for a model without a seed key, the one the server reported."""
        seed = self.input.get("seed")
        if isinstance(seed, int):
            return seed
        return next((image.seed for image in self.files if image.seed is not None), None)

    @property
    def request_sent(self) -> bool:
        """True when ``input`` is exactly the request this store sent (so it may be cached)."""
        return self.request_source == "sent"

    def origin(self) -> dict[str, Any]:
        """What made the images: the exact request, and whether a local preview drew them
        (what goes inside each image file). Nothing of the one job that ran it (id, dates,
        credits, the server's address: the manifest beside the file has those), so the same
        request made again gives byte-identical files."""
        made_by = {
            "model": self.model,
            "input": self.input,
            "cache_key": self.cache_key,
            "local_preview": self.local_preview,
            "version": self.version,
        }
        if not self.request_sent:  # a record of a request this store did not send says so
            made_by["request_source"] = self.request_source
            made_by["unknown_input"] = list(self.unknown)
        return made_by

    def describe(self) -> dict[str, Any]:
        """The provenance of the job, without file hashes: its origin and the job that ran it."""
        return {
            "job_id": self.job_id,
            **self.origin(),
            "backend": self.backend,
            "credits_used": self.credits_used,
            "created": self.created,
            "completed": self.completed,
        }

    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        return {**self.describe(), "files": [f.to_json(relative_to) for f in self.files]}

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Path) -> JobRecord:
        job_id = str(data["job_id"])
        return cls(
            job_id=job_id,
            model=str(data["model"]),
            input=dict(data["input"]),
            cache_key=str(data.get("cache_key", "")),
            backend=str(data.get("backend", "")),
            local_preview=bool(data.get("local_preview", False)),
            credits_used=data.get("credits_used"),
            created=data.get("created"),
            completed=data.get("completed"),
            files=tuple(StoredImage.from_json(f, base, job_id) for f in data.get("files", ())),
            version=str(data.get("version", "")),
            request_source=str(data.get("request_source", "sent")),
            unknown=tuple(str(k) for k in data.get("unknown_input", ())),
        )
