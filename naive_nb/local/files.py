"""Result files served under `/files/...`, each with an expiry like the provider's CDN URLs."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    content_type: str
    expires_at: float


class FileStore:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._files: dict[str, StoredFile] = {}

    def put(self, name: str, data: bytes, content_type: str) -> None:
        self._files[name] = StoredFile(data, content_type, time.monotonic() + self.ttl)

    def get(self, name: str) -> StoredFile | None:
        """The file, or None when unknown or expired (expired files are dropped for good)."""
        stored = self._files.get(name)
        if stored is None:
            return None
        if time.monotonic() >= stored.expires_at:
            del self._files[name]
            return None
        return stored
