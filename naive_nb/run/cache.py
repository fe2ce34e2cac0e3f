"""The request cache: a seeded request already paid for is served from disk.

The key is the SHA-256 of the canonical JSON of ``{"model", "input"}`` (sorted keys, no
whitespace), so the same request written in a different order hits the same entry. Every request
the magic sends to a model that takes a seed is seeded (unseeded ones get a concrete seed
first), so those are cacheable; a model without a ``seed`` key (Recraft v3) draws a new image
every time, so its requests are never cached. An entry only points at a job in the
:class:`ResultStore`; it is trusted only when the stored files still match their sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from naive_nb.run.records import JobRecord
from naive_nb.run.store import ResultStore

CACHE_DIR = "_cache"


class CacheMiss(LookupError):
    """Offline mode and no cached result for a request."""

    def __init__(self, key: str, model: str, seed: object) -> None:
        if seed is None:
            what = (
                f"Offline mode: {model} takes no seed, so each of its requests makes a new "
                "random image and none is ever cached."
            )
        else:
            what = f"Offline mode: no cached result for {model} with seed {seed} (key {key[:12]})."
        super().__init__(
            f"{what} Run it online: %config NaiveMagics.offline = False (and no --offline)."
        )
        self.key = key


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(model: str, data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical request: the identity of a result."""
    return hashlib.sha256(
        canonical_json({"model": model, "input": dict(data)}).encode()
    ).hexdigest()


class RequestCache:
    """Maps request keys to stored jobs (``<store>/_cache/<key>.json``)."""

    def __init__(self, store: ResultStore) -> None:
        self.store = store
        self.directory = store.root / CACHE_DIR

    def get(self, key: str) -> JobRecord | None:
        try:
            entry = json.loads((self.directory / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        record = self.store.load(str(entry.get("job_id", "")))
        if record is None or record.cache_key != key:
            return None
        return record

    def put(self, record: JobRecord) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{record.cache_key}.json"
        temporary = path.with_name(f".{path.name}.part")
        entry = {"job_id": record.job_id, "model": record.model, "input": record.input}
        temporary.write_text(canonical_json(entry))
        os.replace(temporary, path)

    def entries(self) -> list[Path]:
        return sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []
