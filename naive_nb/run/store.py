"""The project-local result store: full-size files, a manifest beside them, sha256 of each.

Layout (``root`` defaults to ``naive-results/`` in the working directory)::

    root/<job id>/<n>-seed<seed>.<ext>   the images as the API returned them, plus provenance
    root/<job id>/manifest.json          the JobRecord: request, job, credits, files + sha256

Provenance also goes inside each file (a PNG ``tEXt`` chunk or a JPEG comment), inserted without
re-encoding, so the pixels stay byte-identical to what the server sent and a file copied out of
the store still says how it was made.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from naive_nb.run.records import MANIFEST_NAME, JobRecord, StoredImage, sha256_of

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROVENANCE_KEY = "naive"
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True)
class ImagePayload:
    """An image as downloaded, before it is stored."""

    data: bytes
    content_type: str
    width: int
    height: int
    seed: int | None


class ResultStore:
    """Writes and reads finished jobs under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def job_dir(self, job_id: str) -> Path:
        safe = "".join(c for c in job_id if c.isalnum() or c in "-_")
        return self.root / (safe or "job")

    def save(self, record: JobRecord, images: Sequence[ImagePayload]) -> JobRecord:
        """Write the files and the manifest; return the record with its stored files."""
        directory = self.job_dir(record.job_id)
        directory.mkdir(parents=True, exist_ok=True)
        stamp = json.dumps(record.describe(), sort_keys=True, ensure_ascii=True)
        stored: list[StoredImage] = []
        for index, image in enumerate(images):
            extension = _EXTENSIONS.get(image.content_type, "bin")
            seed_part = f"-seed{image.seed}" if image.seed is not None else ""
            path = directory / f"{index + 1}{seed_part}.{extension}"
            data = with_provenance(image.data, image.content_type, stamp)
            _write_atomic(path, data)
            stored.append(
                StoredImage(
                    path=path,
                    sha256=sha256_of(data),
                    width=image.width,
                    height=image.height,
                    content_type=image.content_type,
                    seed=image.seed,
                    index=index,
                    job_id=record.job_id,
                )
            )
        saved = replace(record, files=tuple(stored))
        manifest = json.dumps(saved.to_json(relative_to=directory), indent=2, sort_keys=True)
        _write_atomic(directory / MANIFEST_NAME, manifest.encode())
        return saved

    def load(self, job_id: str, *, verify: bool = True) -> JobRecord | None:
        """The stored record of ``job_id``, or None when absent or (with ``verify``) tampered."""
        directory = self.job_dir(job_id)
        try:
            data = json.loads((directory / MANIFEST_NAME).read_text())
            record = JobRecord.from_json(data, directory)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if verify and not all(_intact(f) for f in record.files):
            return None
        return record

    def records(self) -> list[JobRecord]:
        if not self.root.is_dir():
            return []
        found = (
            self.load(p.parent.name, verify=False) for p in self.root.glob(f"*/{MANIFEST_NAME}")
        )
        return [r for r in found if r is not None]


def _intact(image: StoredImage) -> bool:
    try:
        return sha256_of(image.path.read_bytes()) == image.sha256
    except OSError:
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    # write-then-rename: a kernel killed mid-write never leaves a half file the cache would trust
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def with_provenance(data: bytes, content_type: str, text: str) -> bytes:
    """``data`` with ``text`` embedded as metadata, pixels untouched; unknown formats unchanged."""
    if content_type == "image/png" and data.startswith(PNG_SIGNATURE):
        return _png_with_text(data, PROVENANCE_KEY, text)
    if content_type == "image/jpeg" and data.startswith(b"\xff\xd8"):
        return _jpeg_with_comment(data, f"{PROVENANCE_KEY}:{text}")
    return data


def _png_with_text(data: bytes, key: str, text: str) -> bytes:
    body = key.encode("latin-1") + b"\x00" + text.encode("latin-1", "replace")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    # right after IHDR (8-byte signature + 25-byte IHDR chunk), where readers look first
    insert_at = len(PNG_SIGNATURE) + 25
    return data[:insert_at] + chunk + data[insert_at:]


def _jpeg_with_comment(data: bytes, text: str) -> bytes:
    payload = text.encode("utf-8")[:65533]
    segment = b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def read_provenance(path: str | os.PathLike[str]) -> dict[str, object] | None:
    """The provenance embedded in a stored file (PNG text chunk or JPEG comment), if any."""
    from PIL import Image

    with Image.open(path) as image:
        text = image.info.get(PROVENANCE_KEY) if image.format == "PNG" else None
        if image.format == "JPEG":
            comment = image.info.get("comment", b"")
            prefix = f"{PROVENANCE_KEY}:".encode()
            if isinstance(comment, bytes) and comment.startswith(prefix):
                text = comment[len(prefix) :].decode("utf-8")
    if not isinstance(text, str):
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None
