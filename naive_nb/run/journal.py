"""The job journal: every job id this store learns of is on disk before the first poll.

A job is paid for when it completes, whether or not the kernel is still there to see it. The
journal (``<store>/_journal.jsonl``, one JSON object per line, appended and flushed to disk) keeps
what was submitted; ``%naive jobs`` lists what is still pending and ``%naive resume`` collects it
after a kernel crash. Lines are only appended, so a crash mid-write loses at most that line.

Each entry names the backend the job was sent to (a job id means nothing to another server), and
ends with one final event: ``collected``, ``failed``, ``cancelled``, ``lost`` (the server no
longer knows the id, e.g. an embedded server that went away with its kernel), or ``not_ours``
(a job a lost submit might have created, whose record showed another request).

A ``submitted`` entry marked ``unverified`` is a *claim*: a job the client found in the job list
after a submit's reply was lost, which may be that request's job or someone else's. One job may
carry several claims (it was a candidate for several lost submits); it is stored under a claim's
request only once its own record matches that request. A claim never reopens a closed job, and
the entry of a job this store submitted itself outranks any claim on it.

Several kernels may share one journal: each line is written with one ``write`` on a descriptor
opened with ``O_APPEND``, so lines from different processes never interleave; a line that is
damaged anyway (a torn write, a bad byte) is skipped and counted (:attr:`JournalReading.damaged`),
and the rest is read as usual.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from naive_nb.client import LOCAL_BACKEND  # every embedded server: its jobs die with its kernel

__all__ = [
    "FINAL_EVENTS",
    "JOURNAL_NAME",
    "LOCAL_BACKEND",
    "Claim",
    "JobJournal",
    "JournalReading",
    "PendingJob",
]

JOURNAL_NAME = "_journal.jsonl"
FINAL_EVENTS = ("collected", "failed", "cancelled", "lost", "not_ours")


@dataclass(frozen=True)
class Claim:
    """A request a journalled job was submitted for (or, unverified, may have been)."""

    model: str
    input: dict[str, Any]
    cache_key: str


@dataclass(frozen=True)
class PendingJob:
    """A submitted job the journal has no final word on."""

    job_id: str
    model: str
    input: dict[str, Any]
    cache_key: str
    submitted: str
    backend: str | None = None  # host it was sent to, or LOCAL_BACKEND; None in older journals
    #: False for a job found in the job list after a lost submit reply: it may be another's
    verified: bool = True
    #: every request it may belong to (one for a verified job); the first is model/input/key
    claims: tuple[Claim, ...] = field(default=())

    @property
    def requests(self) -> tuple[Claim, ...]:
        return self.claims or (Claim(self.model, self.input, self.cache_key),)


@dataclass(frozen=True)
class JournalReading:
    """The journal's readable entries, and the numbers (1-based) of the lines that were not."""

    entries: list[dict[str, Any]]
    damaged: tuple[int, ...] = ()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class JobJournal:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / JOURNAL_NAME

    def _append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if not _ends_a_line(descriptor):  # a line torn by a crash must not swallow this one
                line = b"\n" + line
            # one write per line on an O_APPEND descriptor: the kernel appends it as one piece,
            # so lines written by several processes at once never interleave
            written = os.write(descriptor, line)
            if written != len(line):  # short write (a full disk): finish it, report the rest
                os.write(descriptor, line[written:])
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def submitted(
        self,
        job_id: str,
        model: str,
        data: dict[str, Any],
        cache_key: str,
        backend: str | None = None,
        *,
        verified: bool = True,
    ) -> None:
        entry: dict[str, Any] = {
            "event": "submitted",
            "job_id": job_id,
            "model": model,
            "input": data,
            "cache_key": cache_key,
            "at": _now(),
        }
        if backend:
            entry["backend"] = backend
        if not verified:
            entry["unverified"] = True
        self._append(entry)

    def finished(self, job_id: str, event: str, detail: str = "") -> None:
        if event not in FINAL_EVENTS:
            raise ValueError(f"event must be one of {FINAL_EVENTS}, got {event!r}")
        entry: dict[str, Any] = {"event": event, "job_id": job_id, "at": _now()}
        if detail:
            entry["detail"] = detail
        self._append(entry)

    def read(self) -> JournalReading:
        """Every readable entry in order; a damaged line (torn by a crash, a bad byte, not a JSON
        object) is skipped and its number reported, and everything around it still counts."""
        try:
            raw = self.path.read_bytes()
        except OSError:
            return JournalReading([])
        entries: list[dict[str, Any]] = []
        damaged: list[int] = []
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line.decode("utf-8"))
            except ValueError:  # UnicodeDecodeError is a ValueError too
                damaged.append(number)
                continue
            if isinstance(entry, dict) and isinstance(entry.get("job_id"), str):
                entries.append(entry)
            else:
                damaged.append(number)
        return JournalReading(entries, tuple(damaged))

    def entries(self) -> list[dict[str, Any]]:
        return self.read().entries

    def pending(self) -> list[PendingJob]:
        """Submitted jobs without a final event, oldest first."""
        return _pending(self.read().entries)

    def request_of(self, job_id: str) -> PendingJob | None:
        """The request this store submitted ``job_id`` for (verified), collected or not."""
        found = None
        for entry in self.read().entries:
            if (
                entry.get("job_id") == job_id
                and entry.get("event") == "submitted"
                and not entry.get("unverified")
            ):
                found = _entry_job(entry)
        return found

    def closed(self) -> set[str]:
        """Ids of the jobs that have their final event."""
        return {str(e["job_id"]) for e in self.read().entries if e.get("event") in FINAL_EVENTS}


def _ends_a_line(descriptor: int) -> bool:
    if os.fstat(descriptor).st_size == 0:
        return True
    os.lseek(descriptor, -1, os.SEEK_END)  # reads only: writes on O_APPEND go to the end anyway
    return os.read(descriptor, 1) == b"\n"


def _entry_job(entry: dict[str, Any]) -> PendingJob:
    claim = Claim(
        model=str(entry.get("model", "")),
        input=dict(entry.get("input") or {}),
        cache_key=str(entry.get("cache_key", "")),
    )
    return PendingJob(
        job_id=str(entry["job_id"]),
        model=claim.model,
        input=claim.input,
        cache_key=claim.cache_key,
        submitted=str(entry.get("at", "")),
        backend=str(entry["backend"]) if entry.get("backend") else None,
        verified=not entry.get("unverified"),
        claims=(claim,),
    )


def _pending(entries: list[dict[str, Any]]) -> list[PendingJob]:
    open_jobs: dict[str, PendingJob] = {}
    closed: set[str] = set()
    for entry in entries:
        job_id = str(entry.get("job_id", ""))
        if entry.get("event") == "submitted":
            job = _entry_job(entry)
            before = open_jobs.get(job_id)
            if not job.verified:
                if job_id in closed or (before is not None and before.verified):
                    continue  # a claim never reopens a job, nor outranks its own submit
                if before is not None:  # one more request it may belong to
                    known = {c.cache_key for c in before.claims}
                    extra = tuple(c for c in job.claims if c.cache_key not in known)
                    job = replace(before, claims=before.claims + extra)
            open_jobs[job_id] = job
        elif entry.get("event") in FINAL_EVENTS:
            open_jobs.pop(job_id, None)
            closed.add(job_id)
    return list(open_jobs.values())
