"""What the core's smaller calls return: structured rows a front end turns into its own words.

:class:`Quote` (a price), :class:`JobsReport` (recent and pending jobs), :class:`StatusReport`,
:class:`CancelReport` and :class:`ResumeReport`. None of them holds the API key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import Job
    from naive_nb.run.journal import PendingJob
    from naive_nb.run.outcome import Outcome

__all__ = [
    "RESUME_CODES",
    "CancelReport",
    "JobsReport",
    "JournalDamage",
    "Quote",
    "QuoteLine",
    "ResumeReport",
    "ResumeRow",
    "StatusReport",
]


@dataclass(frozen=True)
class QuoteLine:
    """The jobs of one model and image count, and what they cost (the pricing endpoint's price
    of one job, times the jobs)."""

    model: str
    jobs: int
    num_images: int
    credits: float
    usd: float | None


@dataclass(frozen=True)
class Quote:
    """What a plan would cost: per job from the pricing endpoint, times the jobs it sends.

    ``model``, ``num_images`` are the first line's (the only one without a model axis);
    ``lines`` one per model and image count. For a run about to start (``Session.estimate``)
    ``cached`` jobs are served from the store and cost nothing, ``jobs`` are those sent, and
    ``seconds`` is about how long they take (None: unknown).
    """

    model: str
    jobs: int
    num_images: int
    credits: float
    usd: float | None
    credit_value_usd: float | None
    lines: tuple[QuoteLine, ...] = ()
    cached: int = 0
    seconds: float | None = None


@dataclass(frozen=True)
class JournalDamage:
    """Lines of the journal that could not be read (skipped; the rest still counts)."""

    path: Path
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class JobsReport:
    """Recent jobs on the server (newest first), and the journal's jobs not yet collected."""

    jobs: list[Job]
    pending: list[PendingJob]
    store: Path
    damage: JournalDamage


@dataclass(frozen=True)
class StatusReport:
    """Where requests go and what the store holds. ``credits`` is the server's ``credits``
    object (balance, tier, note) or None with ``credits_error`` saying why."""

    backend: str
    base_url: str
    key_set: bool
    credits: dict[str, Any] | None
    credits_error: Exception | None
    version: str
    store: Path
    cached_requests: int
    pending: int
    cache_only: bool
    damage: JournalDamage


@dataclass(frozen=True)
class CancelReport:
    """The job as the cancel left it; ``cancelled`` is False when it had already finished."""

    job: Job
    cancelled: bool


#: what resuming one journalled job came to
RESUME_CODES = (
    "collected",  # stored (``outcome``)
    "skipped",  # sent to another backend (``backend``, ``here``): it stays journalled
    "failed",  # ended failed on the server (``reason``): closed in the journal
    "cancelled",  # ended cancelled (``reason``): closed in the journal
    "not_ours",  # a claim whose record matches no request of this store: closed
    "lost",  # the backend does not know the job (any more): closed
    "still_running",  # past the deadline: still journalled
    "not_collected",  # an error (``error``) left it journalled
    "not_tried",  # an earlier job found the server unreachable
)


@dataclass(frozen=True)
class ResumeRow:
    job_id: str
    code: str
    detail: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True)
class ResumeReport:
    """One row per journalled job tried, in journal order, and the journal's damage."""

    rows: list[ResumeRow]
    damage: JournalDamage

    @property
    def outcomes(self) -> list[Outcome]:
        return [row.outcome for row in self.rows if row.outcome is not None]
