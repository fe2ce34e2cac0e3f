"""The job journal: every accepted job id is on disk before the first poll.

A job is paid for when it completes, whether or not the kernel is still there to see it. The
journal (``<store>/_journal.jsonl``, one JSON object per line, appended and flushed to disk) keeps
what was submitted; ``%naive jobs`` lists what is still pending and ``%naive resume`` collects it
after a kernel crash. Lines are only appended, so a crash mid-write loses at most that line.

Each entry names the backend the job was sent to (a job id means nothing to another server), and
ends with one final event: ``collected``, ``failed``, ``cancelled``, or ``lost`` (the server no
longer knows the id, e.g. an embedded server that went away with its kernel).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

JOURNAL_NAME = "_journal.jsonl"
FINAL_EVENTS = ("collected", "failed", "cancelled", "lost")
LOCAL_BACKEND = "local preview engine"  # every embedded server: its jobs die with its kernel


@dataclass(frozen=True)
class PendingJob:
    """A submitted job the journal has no final word on."""

    job_id: str
    model: str
    input: dict[str, Any]
    cache_key: str
    submitted: str
    backend: str | None = None  # host it was sent to, or LOCAL_BACKEND; None in older journals


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class JobJournal:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / JOURNAL_NAME

    def _append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def submitted(
        self,
        job_id: str,
        model: str,
        data: dict[str, Any],
        cache_key: str,
        backend: str | None = None,
    ) -> None:
        entry = {
            "event": "submitted",
            "job_id": job_id,
            "model": model,
            "input": data,
            "cache_key": cache_key,
            "at": _now(),
        }
        if backend:
            entry["backend"] = backend
        self._append(entry)

    def finished(self, job_id: str, event: str, detail: str = "") -> None:
        if event not in FINAL_EVENTS:
            raise ValueError(f"event must be one of {FINAL_EVENTS}, got {event!r}")
        entry: dict[str, Any] = {"event": event, "job_id": job_id, "at": _now()}
        if detail:
            entry["detail"] = detail
        self._append(entry)

    def entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash; everything before it still counts
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def pending(self) -> list[PendingJob]:
        """Submitted jobs without a final event, oldest first."""
        open_jobs: dict[str, PendingJob] = {}
        for entry in self.entries():
            job_id = str(entry.get("job_id", ""))
            if entry.get("event") == "submitted":
                open_jobs[job_id] = PendingJob(
                    job_id=job_id,
                    model=str(entry.get("model", "")),
                    input=dict(entry.get("input") or {}),
                    cache_key=str(entry.get("cache_key", "")),
                    submitted=str(entry.get("at", "")),
                    backend=str(entry["backend"]) if entry.get("backend") else None,
                )
            elif entry.get("event") in FINAL_EVENTS:
                open_jobs.pop(job_id, None)
        return list(open_jobs.values())
