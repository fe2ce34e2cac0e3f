"""The project-local result store: full-size files, a manifest beside them, sha256 of each.

Layout (``root`` defaults to ``naive-results/`` in the working directory)::

    root/<job id>/<n>-seed<seed>.<ext>   the images as the API returned them, plus provenance
    root/<job id>/manifest.json          the JobRecord: request, job, credits, files + sha256

Provenance also goes inside each file (a PNG ``tEXt`` chunk or a JPEG comment), inserted without
re-encoding, so the pixels stay byte-identical to what the server sent and a file copied out of
the store still says how it was made.

A record is only ever written with its files (a job with no images is refused: it is not a
result), and only ever trusted while every file matches its sha256; :meth:`ResultStore.check`
says what is wrong with one that does not (a :class:`Damage`, for the notebook layer to word).
Several kernels may share one store: every file is written under a name of its own and moved
into place with ``os.replace``, so no writer can see or clobber another's half-written file.
"""

from __future__ import annotations

import json
import os
import struct
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from naive_nb.run.problems import EmptyResult
from naive_nb.run.records import MANIFEST_NAME, JobRecord, StoredImage, sha256_of

__all__ = [
    "DAMAGE_PROBLEMS",
    "Damage",
    "EmptyResult",
    "ImagePayload",
    "ResultStore",
    "read_provenance",
    "with_provenance",
    "without_provenance",
    "write_atomic",
]

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


#: what :meth:`ResultStore.check` may find wrong with a stored job
DAMAGE_PROBLEMS = (
    "manifest_missing",  # no manifest (the job's folder, or just its manifest, was deleted)
    "manifest_unreadable",  # the manifest is not a record (garbled, truncated, edited)
    "no_files",  # the record lists no image
    "file_missing",  # a listed file is gone
    "checksum",  # a listed file's bytes no longer match its sha256
)


@dataclass(frozen=True)
class Damage:
    """What is wrong with a stored job: ``problem`` is one of :data:`DAMAGE_PROBLEMS`.

    ``path`` is the manifest or the first bad file; ``seeds`` the seeds of the bad files (for a
    manifest problem, the seed the request asked for when known); ``record`` the manifest's
    record when it could be read.
    """

    job_id: str
    problem: str
    path: Path
    seeds: tuple[int | None, ...] = ()
    record: JobRecord | None = None


class ResultStore:
    """Writes and reads finished jobs under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def job_dir(self, job_id: str) -> Path:
        safe = "".join(c for c in job_id if c.isalnum() or c in "-_")
        return self.root / (safe or "job")

    def save(self, record: JobRecord, images: Sequence[ImagePayload]) -> JobRecord:
        """Write the files and the manifest; return the record with its stored files.

        Raises :class:`EmptyResult` for a job with no images (nothing is written).
        """
        if not images:
            raise EmptyResult(record.job_id)
        directory = self.job_dir(record.job_id)
        directory.mkdir(parents=True, exist_ok=True)
        stamp = json.dumps(record.origin(), sort_keys=True, ensure_ascii=True)
        stored: list[StoredImage] = []
        for index, image in enumerate(images):
            extension = _EXTENSIONS.get(image.content_type, "bin")
            seed_part = f"-seed{image.seed}" if image.seed is not None else ""
            path = directory / f"{index + 1}{seed_part}.{extension}"
            data = with_provenance(image.data, image.content_type, stamp)
            write_atomic(path, data)
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
        write_atomic(directory / MANIFEST_NAME, manifest.encode())
        return saved

    def load(self, job_id: str, *, verify: bool = True) -> JobRecord | None:
        """The stored record of ``job_id``, or None when absent, empty or (with ``verify``)
        damaged."""
        if verify:
            return self.check(job_id)[0]
        record = self._read(self.job_dir(job_id))
        return record if isinstance(record, JobRecord) and record.files else None

    def check(self, job_id: str) -> tuple[JobRecord | None, Damage | None]:
        """The stored record of ``job_id`` if it is whole, else what is wrong with it.

        ``(record, None)``: every file is there and matches its sha256. ``(None, damage)``:
        see :class:`Damage`; a job never stored here is ``manifest_missing``.
        """
        directory = self.job_dir(job_id)
        manifest = directory / MANIFEST_NAME
        record = self._read(directory)
        if record is None:
            return None, Damage(job_id, "manifest_missing", manifest)
        if not isinstance(record, JobRecord):
            return None, Damage(job_id, "manifest_unreadable", manifest)
        if not record.files:
            return None, Damage(job_id, "no_files", manifest, (record.seed,), record)
        bad = [(image, _problem(image)) for image in record.files]
        bad = [(image, problem) for image, problem in bad if problem]
        if bad:
            seeds = tuple(image.seed for image, _ in bad)
            first, problem = bad[0]
            return None, Damage(job_id, problem, first.path, seeds, record)
        return record, None

    @staticmethod
    def _read(directory: Path) -> JobRecord | str | None:
        """The manifest's record; None when there is none; a reason when it cannot be read."""
        try:
            raw = (directory / MANIFEST_NAME).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            return str(error)
        try:
            return JobRecord.from_json(json.loads(raw.decode("utf-8")), directory)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return str(error) or type(error).__name__

    def records(self) -> list[JobRecord]:
        if not self.root.is_dir():
            return []
        found = (
            self.load(p.parent.name, verify=False) for p in self.root.glob(f"*/{MANIFEST_NAME}")
        )
        return [r for r in found if r is not None]


def _problem(image: StoredImage) -> str:
    """Empty for a file that matches its sha256, else ``file_missing`` or ``checksum``."""
    try:
        data = image.path.read_bytes()
    except OSError:
        return "file_missing"
    return "" if sha256_of(data) == image.sha256 else "checksum"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees half of it, whatever else writes.

    Write-then-rename: a kernel killed mid-write never leaves a half file the cache would trust.
    The temporary name is this writer's own (process id and a random part), so two kernels
    writing the same path at once each rename a whole file into place and neither loses its
    temporary file to the other.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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


def without_provenance(data: bytes) -> bytes:
    """The bytes as the server sent them: ``data`` (a stored file) without the provenance that
    :func:`with_provenance` inserted."""
    if data.startswith(PNG_SIGNATURE):
        at = len(PNG_SIGNATURE) + 25
        (length,) = struct.unpack(">I", data[at : at + 4]) if len(data) >= at + 8 else (0,)
        if data[at + 4 : at + 8] == b"tEXt" and data[at + 8 :].startswith(
            PROVENANCE_KEY.encode("latin-1") + b"\x00"
        ):
            return data[:at] + data[at + 12 + length :]
    elif data.startswith(b"\xff\xd8\xff\xfe") and len(data) >= 6:
        (length,) = struct.unpack(">H", data[4:6])
        if data[6:].startswith(f"{PROVENANCE_KEY}:".encode()):
            return data[:2] + data[4 + length :]
    return data


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
