"""What a run reports while it works (:class:`RunProgress`) and when it ends (:class:`Summary`).

Plain values, so the run layer reports without knowing how (or whether) they are displayed.
Progress covers the WHOLE run: every job's state (:class:`JobProgress`), counts of waiting,
running, done, failed and cached jobs, credits so far, and the client's notice of a pause. A
front end can say "4 running, 1 of 4 done" from it, and move a bar with the clock between polls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import Job

__all__ = ["STATES", "JobProgress", "RunProgress", "Summary", "progress_of"]

#: the states of a job in a run, in the order it goes through them
STATES = (
    "waiting",  # not yet submitted (earlier jobs go first)
    "submitting",
    "queued",
    "processing",
    "downloading",
    "done",  # stored
    "failed",  # failed, cancelled, timed out, lost: no image
    "cached",  # served from the store, nothing sent
)
WAITING = ("waiting", "submitting", "queued")
RUNNING = ("processing", "downloading")
#: a clock-driven bar never claims more of a running job than this
CLOCK_CAP = 0.95
DOWNLOADING = 0.98  # a bar reaches its end only when every job is done


@dataclass(frozen=True)
class JobProgress:
    """One job of a run: its state (see :data:`STATES`), the server's percent, its estimates,
    and ``since``: the run's elapsed seconds when it was accepted (the clock a bar moves by)."""

    status: str = "waiting"
    job_id: str | None = None
    progress: float | None = None  # 0-100, when the server says
    estimated_seconds: float | None = None
    estimated_credits: float | None = None
    since: float | None = None
    credits_used: float | None = None

    def fraction(self, elapsed: float) -> float:
        """Completion, 0-1: the server's percent, moved on by the clock against the estimate
        between polls (never past :data:`CLOCK_CAP` until the job is done)."""
        if self.status in ("done", "cached", "failed"):
            return 1.0
        if self.status in WAITING:
            return 0.0
        current = (self.progress or 0.0) / 100.0
        if self.estimated_seconds and self.since is not None and self.status == "processing":
            # polls are sparse (paced by the estimate): between them, move with the clock
            by_clock = (elapsed - self.since) / max(self.estimated_seconds, 0.001)
            current = max(current, min(CLOCK_CAP, by_clock))
        if self.status == "downloading":  # finished on the server; not done until stored
            return DOWNLOADING
        return min(CLOCK_CAP, current)


@dataclass(frozen=True)
class RunProgress:
    """A snapshot of a whole run: each job's state, the elapsed seconds, and the client's
    notice of why it pauses (a rate limit, a retry) until the next status update."""

    jobs: tuple[JobProgress, ...]
    elapsed: float = 0.0
    notice: str | None = None

    def count(self, *states: str) -> int:
        return sum(1 for job in self.jobs if job.status in states)

    @property
    def total(self) -> int:
        return len(self.jobs)

    @property
    def waiting(self) -> int:
        """Not yet running: waiting for their turn, being submitted, or queued on the server."""
        return self.count(*WAITING)

    @property
    def running(self) -> int:
        return self.count(*RUNNING)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def cached(self) -> int:
        return self.count("cached")

    @property
    def credits(self) -> float:
        """Credits spent so far (jobs done; the store's copies cost nothing)."""
        return sum(job.credits_used or 0.0 for job in self.jobs if job.status == "done")

    @property
    def estimated_credits(self) -> float | None:
        """The run's estimated cost (jobs it sends), when the server gave estimates."""
        known = [job.estimated_credits for job in self.jobs if job.status != "cached"]
        values = [value for value in known if value is not None]
        return sum(values) if values else None

    @property
    def fraction(self) -> float:
        """Overall completion, 0-1."""
        if not self.jobs:
            return 0.0
        return sum(job.fraction(self.elapsed) for job in self.jobs) / len(self.jobs)

    @property
    def current(self) -> JobProgress | None:
        """The job a one-line display speaks of: the only one, else the first still open."""
        if len(self.jobs) == 1:
            return self.jobs[0]
        open_jobs = [job for job in self.jobs if job.status not in ("done", "failed", "cached")]
        return open_jobs[0] if open_jobs else None


def progress_of(job: Job, accepted: Job | None = None, since: float | None = None) -> JobProgress:
    """A client ``Job`` as a run's job state. Status replies may omit the estimates the submit
    reply gave (``accepted``): those are kept."""
    first = accepted or job
    status = job.status if job.status in ("queued", "processing") else "downloading"
    if job.status in ("failed", "cancelled"):
        status = "failed"
    return JobProgress(
        status=status,
        job_id=job.id,
        progress=job.progress,
        estimated_seconds=job.estimated_seconds or first.estimated_seconds,
        estimated_credits=job.estimated_credits or first.estimated_credits,
        since=since,
        credits_used=job.credits_used,
    )


@dataclass(frozen=True)
class Summary:
    """How a run ended."""

    ok: bool
    seconds: float
    images: int = 0
    credits: float | None = None
    job_ids: Sequence[str] = field(default_factory=tuple)
    cached: int = 0  # images (not jobs) served from disk, without a request
    message: str = ""  # why it failed, or a note (e.g. "cancelled job ...")
    # not failed: every job left is still running on the server (deadline passed, contact lost)
    still_running: bool = False
