"""What a run reports while it works (:class:`ProgressState`) and when it ends (:class:`Summary`).

Plain values, so the run layer can report without knowing how (or whether) they are displayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressState:
    """A snapshot of a run while it polls (one run = one or more jobs, e.g. a seed sweep)."""

    status: str  # "submitting" | "queued" | "processing" | "downloading" | "cached"
    elapsed: float
    job_id: str | None = None
    progress: float | None = None  # 0-100 for the current job, when the server says
    estimated_seconds: float | None = None
    estimated_credits: float | None = None
    jobs_done: int = 0
    jobs_total: int = 1

    @property
    def fraction(self) -> float:
        """Overall completion, 0-1, from finished jobs plus the current one's progress."""
        current = (self.progress or 0.0) / 100.0
        if self.progress is None and self.estimated_seconds:
            current = min(0.95, self.elapsed / max(self.estimated_seconds, 0.001))
        if self.status == "queued":
            current = 0.0
        total = max(1, self.jobs_total)
        return max(0.0, min(1.0, (self.jobs_done + current) / total))


@dataclass(frozen=True)
class Summary:
    """How a run ended."""

    ok: bool
    seconds: float
    images: int = 0
    credits: float | None = None
    job_ids: Sequence[str] = field(default_factory=tuple)
    cached: int = 0  # results served from disk, without a request
    message: str = ""  # why it failed, or a note (e.g. "cancelled job ...")
