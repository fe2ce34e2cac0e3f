"""The request cache: a seeded request already paid for is served from disk.

The key is the SHA-256 of the canonical JSON of ``{"model", "input"}`` (sorted keys, no
whitespace), so the same request written in a different order hits the same entry. Every request
the magic sends to a model that takes a seed is seeded (unseeded ones get a concrete seed
first), so those are cacheable; a model without a ``seed`` key (Recraft v3) draws a new image
every time, so its requests are never cached. An entry only points at a job in the
:class:`ResultStore`; it is trusted only when the stored files still match their sha256.

The index (``_cache/<key>.json``) is only a shortcut: the manifests in the store are the truth.
An entry that is missing or unreadable is rebuilt from an intact manifest of the same request
(a deleted ``_cache/`` costs nothing), and a lookup that finds a damaged copy says so
(:class:`CacheLookup.damage`) rather than missing in silence.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naive_nb.run.problems import CacheMiss
from naive_nb.run.records import MANIFEST_NAME, JobRecord
from naive_nb.run.store import Damage, ResultStore, write_atomic

__all__ = [
    "CACHE_DIR",
    "CacheLookup",
    "CacheMiss",
    "RequestCache",
    "canonical_json",
    "request_key",
]

CACHE_DIR = "_cache"

# What each job folder's manifest says (request key, date, job id), per store, kept for the life
# of the process: a lookup that must fall back on the manifests then lists the folders (cheap)
# and parses only the ones it has not seen. A stale entry costs nothing: every hit is checked
# against its files anyway.
_SCANNED: dict[str, dict[str, tuple[str, str, str]]] = {}
_SCAN_LOCK = threading.Lock()


@dataclass(frozen=True)
class CacheLookup:
    """What the cache holds for one request: an intact ``record``, or None and maybe ``damage``
    (a stored copy that failed its checks)."""

    record: JobRecord | None
    damage: Damage | None = None


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
        self._by_key: dict[str, list[str]] | None = None  # manifests by request key, read once

    def refresh(self) -> None:
        """Look at the store's manifests again on the next fallback (another kernel may have
        written some since)."""
        self._by_key = None

    def get(self, key: str) -> JobRecord | None:
        return self.lookup(key).record

    def lookup(self, key: str) -> CacheLookup:
        """The intact stored result of request ``key``, or what was found wrong.

        The index entry first; when it is missing, unreadable or points at a damaged copy, every
        manifest of the same request is tried (newest first), and the index entry is rewritten
        to the intact one found.
        """
        damage: Damage | None = None
        indexed = self._indexed(key)
        if indexed is not None:
            record, damage = self._usable(indexed, key)
            if record is not None:
                return CacheLookup(record)
        for job_id in self._manifests().get(key, []):
            if job_id == indexed:
                continue
            record, found = self._usable(job_id, key)
            if record is not None:
                self.put(record)  # the index, rebuilt from the store
                return CacheLookup(record)
            damage = damage or found
        return CacheLookup(None, damage)

    def indexed(self, key: str) -> bool:
        """Whether the store names a result for ``key`` (its index entry, or a manifest), without
        checking its files: a cheap "probably cached" (a :meth:`lookup` checks them)."""
        return self._indexed(key) is not None or key in self._manifests()

    def _indexed(self, key: str) -> str | None:
        try:
            entry = json.loads((self.directory / f"{key}.json").read_bytes().decode("utf-8"))
            job_id = entry.get("job_id")
        except (OSError, ValueError, AttributeError):
            return None
        return job_id if isinstance(job_id, str) and job_id else None

    def _usable(self, job_id: str, key: str) -> tuple[JobRecord | None, Damage | None]:
        record, damage = self.store.check(job_id)
        if record is not None and (record.cache_key != key or not record.request_sent):
            return None, None  # another request's job: not a copy of this one
        if damage is not None and damage.record is not None and damage.record.cache_key != key:
            return None, None
        return record, damage

    def _manifests(self) -> dict[str, list[str]]:
        """Job ids of the stored manifests of each request key, newest first (read once per
        instance; each manifest is parsed once per process, see :func:`_scan`)."""
        if self._by_key is None:
            found = sorted(_scan(self.store.root), reverse=True)
            self._by_key = {}
            for _stamp, key, job_id in found:
                self._by_key.setdefault(key, []).append(job_id)
        return self._by_key

    def put(self, record: JobRecord) -> None:
        if not record.files or not record.request_sent or not record.cache_key:
            return  # only a whole result of a request this store sent is ever served again
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = {"job_id": record.job_id, "model": record.model, "input": record.input}
        write_atomic(self.directory / f"{record.cache_key}.json", canonical_json(entry).encode())
        if self._by_key is not None:
            jobs = self._by_key.setdefault(record.cache_key, [])
            if record.job_id not in jobs:
                jobs.insert(0, record.job_id)

    def entries(self) -> list[str]:
        """The request keys the store holds a result for (index entries and manifests alike)."""
        indexed = (
            {p.stem for p in self.directory.glob("*.json")} if self.directory.is_dir() else set()
        )
        return sorted(indexed | set(self._manifests()))


def _scan(root: Path) -> list[tuple[str, str, str]]:
    """(date, request key, job id) of every manifest under ``root`` that :meth:`RequestCache.put`
    would have indexed: a seeded request this store sent."""
    try:
        names = {e.name for e in os.scandir(root) if e.is_dir() and e.name[:1] not in "._"}
    except OSError:
        return []
    with _SCAN_LOCK:
        seen = _SCANNED.setdefault(str(root), {})
        for gone in set(seen) - names:
            del seen[gone]
        for name in names - set(seen):
            entry = _manifest_entry(root / name / MANIFEST_NAME)
            if entry is not None:  # not (yet) readable: looked at again next time
                seen[name] = entry
        return [entry for entry in seen.values() if entry[1]]


def _manifest_entry(path: Path) -> tuple[str, str, str] | None:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        key, job_id = data.get("cache_key"), data.get("job_id")
        stamp = str(data.get("completed") or data.get("created") or "")
        seeded = isinstance(data["input"].get("seed"), int)
        sent = data.get("request_source", "sent") == "sent"
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return None  # reported when the index points here; otherwise not a key's copy
    if isinstance(key, str) and key and isinstance(job_id, str) and seeded and sent:
        return stamp, key, job_id
    return stamp, "", str(job_id)  # read, and not a cached request's
