"""Jobs a run did not submit, that answer one of its requests: nothing paid for is paid twice.

- A request whose job is still pending in the journal (an earlier run passed its deadline, or
  the kernel died before it was collected) is waited for, not submitted again: :meth:`adopt`.
- A submit whose reply was lost, when the client names candidate jobs, has each candidate
  journalled as a *claim* first (:meth:`claim`), then the one whose own record matches the request
  adopted; the others are kept as alternatives, tried in turn.
- A submit cut short by an interrupt: the job the client's account names is journalled (and
  closed there when the client cancelled it), and so is each candidate (:meth:`interrupted`).
"""

from __future__ import annotations

from collections.abc import Sequence

from naive_nb.client import Job
from naive_nb.errors import Interrupted, NotFoundError
from naive_nb.run.claims import match_claims, record_summary
from naive_nb.run.journal import JobJournal, PendingJob
from naive_nb.run.keeper import Engine, Keeper, backend_host, journal_backend, server_reason
from naive_nb.run.outcome import Adopted
from naive_nb.run.plan import PlannedJob
from naive_nb.run.store import ResultStore

__all__ = ["Adoption"]


class Adoption:
    """A run's dealings with jobs it did not submit (see the module docstring)."""

    def __init__(
        self, client: Engine, keeper: Keeper, journal: JobJournal, store: ResultStore
    ) -> None:
        self.client = client
        self.keeper = keeper
        self.journal = journal
        self.store = store
        #: adopted claims whose record must still be matched to the request once finished
        self.unverified: dict[str, PendingJob] = {}
        #: the other unfinished claims on the same request, to try if the first is another's
        self.alternatives: dict[str, list[Job]] = {}

    def pending_by_key(self) -> dict[str, list[PendingJob]]:
        """Journalled jobs still pending on this backend, by the request keys they may answer;
        a job this store submitted comes before a claim."""
        here = journal_backend(self.client)
        found: dict[str, list[PendingJob]] = {}
        for entry in sorted(self.journal.pending(), key=lambda p: not p.verified):
            if entry.backend not in (None, here):
                continue  # another server's id means nothing here
            for claim in entry.requests:
                if claim.cache_key:
                    found.setdefault(claim.cache_key, []).append(entry)
        return found

    async def adopt(
        self,
        job: PlannedJob,
        entries: Sequence[PendingJob],
        mine: set[str],
        reason: str = "pending",
    ) -> tuple[Job, Adopted] | None:
        """A journalled job that answers ``job``, fetched, to wait for instead of submitting.

        Seeded requests only (an unseeded one is meant to draw anew). A job the server no longer
        knows is closed as lost, one that failed or was cancelled with its status; a claim whose
        finished record shows another request is not taken (and closed as ``not_ours`` when it
        shows no request of this store). When only unfinished claims are left, the first is
        waited for and the others are kept as alternatives.
        """
        if job.seed is None:
            return None
        host = backend_host(self.client.base_url)
        claims: list[Job] = []
        chosen: Job | None = None
        for entry in entries:
            if entry.job_id in mine or entry.job_id in self.unverified:
                continue
            try:
                current = await self.client.get(entry.job_id)
            except NotFoundError:
                self.journal.finished(entry.job_id, "lost", f"404 from {host}")
                continue
            if current.status in ("failed", "cancelled"):
                self.journal.finished(entry.job_id, current.status, server_reason(current))
                continue
            if entry.verified:  # this store submitted it for this very request
                return current, Adopted(current.id, job.seed, reason)
            # a claim: every one is looked at, so a finished one of no request here is closed
            if current.status == "completed":
                matches, checked = match_claims(entry.requests, await self.keeper.full(current))
                if not any(c.cache_key == job.key for c in matches):
                    if not matches:  # the record shows no request of this store
                        self.journal.finished(entry.job_id, "not_ours", record_summary(current))
                    continue  # another request's job: it stays journalled for that one
                if checked and len(matches) == 1 and chosen is None:
                    chosen = current  # its own record says it is this request's
                    continue
            claims.append(current)
        if chosen is not None:
            self.unverified[chosen.id] = _entry_of(entries, chosen.id)
            return chosen, Adopted(chosen.id, job.seed, reason)
        if not claims:
            return None
        first, *others = claims
        for claim in claims:
            self.unverified[claim.id] = _entry_of(entries, claim.id)
        self.alternatives[first.id] = others
        return first, Adopted(first.id, job.seed, reason, verified=False)

    def claim(self, job: PlannedJob, job_ids: Sequence[str]) -> tuple[str, ...]:
        """Journal each job a lost submit may have created as a claim of ``job``'s request
        (never one already closed or stored here: that one belongs to its own request)."""
        closed = self.journal.closed()
        backend = journal_backend(self.client)
        named = []
        for job_id in job_ids:
            if job_id in closed or self.store.load(job_id, verify=False) is not None:
                continue
            self.journal.submitted(job_id, job.model, job.input, job.key, backend, verified=False)
            named.append(job_id)
        return tuple(named)

    def interrupted(self, job: PlannedJob, account: Interrupted) -> None:
        """The client's account of a submit cut short: the job it names is journalled (and
        closed there when it was cancelled), and so is each candidate, as a claim."""
        if account.job_id is not None:
            self.journal.submitted(
                account.job_id, job.model, job.input, job.key, journal_backend(self.client)
            )
            if account.outcome == "cancelled":
                self.journal.finished(account.job_id, "cancelled", "interrupted during the submit")
        self.claim(job, account.candidates)


def _entry_of(entries: Sequence[PendingJob], job_id: str) -> PendingJob:
    return next(entry for entry in entries if entry.job_id == job_id)
