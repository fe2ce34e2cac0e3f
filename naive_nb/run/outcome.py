"""How a run ended: :class:`Outcome`, with its records, its failures and what it found on the way.

Everything here is data with codes, never sentences: a front end words a :class:`FailedJob` from
its ``code`` and fields, an :class:`Adopted` job or a :class:`Repair` from theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from naive_nb.run.records import JobRecord

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.run.plan import Plan
    from naive_nb.run.problems import InterruptReport
    from naive_nb.run.store import Damage

__all__ = ["FAILURE_CODES", "Adopted", "FailedJob", "Outcome", "Repair"]

#: why a job of a run produced no image
FAILURE_CODES = (
    "failed",  # the server failed it (``reason``: its message)
    "cancelled",  # cancelled on the server
    "timeout",  # still running after the deadline (``timeout``): it stays journalled
    "lost_contact",  # the wait lost the server (``reason``: the error): it stays journalled
    "no_images",  # completed, yet no image could be stored: it stays journalled
    "download",  # completed, its images could not be downloaded (``reason``)
    "submit",  # the submit was refused (``reason``)
    "outcome_unknown",  # the submit's reply was lost; ``candidates`` are journalled
    "not_this_request",  # the candidate adopted turned out to be another request's job
)


@dataclass(frozen=True)
class FailedJob:
    """A cell of a run that produced no image: ``code`` is one of :data:`FAILURE_CODES`.

    ``still_running``: the job did not fail; it runs on on the server (deadline passed, contact
    lost, no images yet, a lost reply's candidates), may still be charged, and stays in the
    journal to be collected later.
    """

    model: str
    input: dict[str, Any]
    code: str = "failed"
    job_id: str | None = None
    still_running: bool = False
    reason: str = ""
    candidates: tuple[str, ...] = ()
    timeout: float | None = None

    @property
    def seed(self) -> int | None:
        seed = self.input.get("seed")
        return seed if isinstance(seed, int) else None

    def describe(self) -> dict[str, Any]:
        """The failure as plain data (for an output's provenance metadata)."""
        return {
            "model": self.model,
            "seed": self.seed,
            "job_id": self.job_id,
            "code": self.code,
            "reason": self.reason,
            "still_running": self.still_running,
        }


@dataclass(frozen=True)
class Adopted:
    """A request of the run answered by a job the run did not submit.

    ``reason``: ``pending`` (an earlier run's job, still pending in the journal), or
    ``candidate`` (this run's submit lost its reply, and this job in the job list has the
    request's own prompt and seed, or could not yet be checked: ``verified``).
    """

    job_id: str
    seed: int | None
    reason: str
    verified: bool = True


@dataclass(frozen=True)
class Repair:
    """A damaged stored copy of one of the run's requests, and what became of it: fetched again
    from its job on the server (``refetched``: no new job, no new charge), or run again."""

    damage: Damage
    seed: int | None
    refetched: bool


@dataclass
class Outcome:
    """What a run (or the collection of one job) left: records in the order asked, failures,
    and what it found on the way (adopted jobs, repaired copies). ``plan`` is None for a job
    collected on its own. ``interrupted`` is set when the run was stopped."""

    plan: Plan | None = None
    records: list[JobRecord] = field(default_factory=list)
    failures: list[FailedJob] = field(default_factory=list)
    seconds: float = 0.0
    adopted: list[Adopted] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    interrupted: InterruptReport | None = None
    #: what each of the plan's jobs came to, by its index in the plan (a job a stopped run never
    #: reached has none): the grid's cells
    by_index: dict[int, JobRecord | FailedJob] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and self.interrupted is None

    @property
    def cached(self) -> int:
        """Jobs served from the store without a new job."""
        return sum(1 for r in self.records if r.from_cache)

    @property
    def cached_images(self) -> int:
        """Images served from the store (a copy fetched again from its job is not one)."""
        refetched = {r.damage.job_id for r in self.repairs if r.refetched}
        return sum(len(r.files) for r in self.records if r.from_cache and r.job_id not in refetched)

    @property
    def credits(self) -> float:
        """Credits this run spent (results served from the store cost nothing)."""
        return sum(r.credits_used or 0.0 for r in self.records if not r.from_cache)

    @property
    def job_ids(self) -> list[str]:
        """Every job id the run knows of: its records', then its failures'."""
        return [r.job_id for r in self.records] + [f.job_id for f in self.failures if f.job_id]
