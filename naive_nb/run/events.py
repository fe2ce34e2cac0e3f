"""What a run reports while it works (:class:`ProgressState`) and when it ends (:class:`Summary`).

Plain values, so the run layer can report without knowing how (or whether) they are displayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressState:
    """A snapshot of a run while it polls (one run = one or more jobs, e.g. a seed sweep)."""

    status: str  # "submitting [k/n]" | "queued" | "processing" | "completed" | "downloading"
    elapsed: float
    job_id: str | None = None
    progress: float | None = None  # 0-100 for the current job, when the server says
    estimated_seconds: float | None = None
    estimated_credits: float | None = None
    jobs_done: int = 0
    jobs_total: int = 1
    #: why the run is pausing (the client's notice, e.g. "rate limited, resuming in 61 s");
    #: shown until the next status update, which carries none
    notice: str | None = None

    @property
    def job_fraction(self) -> float:
        """Completion of the current job, 0-1: the server's %, moved on by the clock."""
        if self.status == "queued" or self.status.startswith("submitting"):
            return 0.0
        current = (self.progress or 0.0) / 100.0
        if self.estimated_seconds and self.status == "processing":
            # the server's % only arrives with a poll, and polls are sparse (paced by the
            # estimate): between them, move with the clock against the estimate, never past 95 %
            by_clock = min(0.95, self.elapsed / max(self.estimated_seconds, 0.001))
            current = max(current, by_clock)
        return min(1.0, current)

    @property
    def fraction(self) -> float:
        """Overall completion, 0-1, from finished jobs plus the current one's progress."""
        total = max(1, self.jobs_total)
        return max(0.0, min(1.0, (self.jobs_done + self.job_fraction) / total))


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
