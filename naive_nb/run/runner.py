"""Running a :class:`Plan`: cache first, journal before polling, every job followed at once.

The order of operations is the product's promise ("nothing paid is lost", "no paying twice"):

1. every request is looked up in the cache, once (a cache-only run stops here on a miss, before
   any request is sent, for the whole sweep); a stored copy found damaged is fetched again from
   its job on the server when that still has it, and run again only when not (:class:`Repair`);
2. a plan checked against the documented catalog only is checked against the server's before
   its first job is sent: a sweep is refused whole, never half sent;
3. a request whose job is still pending in the journal is waited for, not submitted again
   (:class:`Adopted`); only ``refresh`` submits anew;
4. each other job is submitted, in the plan's order, and its id written to the journal the moment
   the client learns it, before anything polls it (lost replies: :mod:`naive_nb.run.adoption`);
5. every accepted job is followed at once, concurrently, on naive-nb's event-loop thread (one
   scheduler for all of a run's polls, within the client's limiter): waited for, its images
   downloaded at once, stored, and only then cached and closed in the journal
   (:class:`naive_nb.run.keeper.Keeper`).

A job that fails becomes a :class:`FailedJob` (a labelled blank tile) rather than stopping the
others. A run is stopped by cancelling its task (a cancel token, or Ctrl-C in the thread that
waits for it): every job whose id the run learnt and that is still open is cancelled on the
server, concurrently, what finished is kept, and the outcome carries an
:class:`InterruptReport`. The run itself never raises ``KeyboardInterrupt`` on the loop thread.

Only seeded requests are cached: a request without a seed (a model that takes none) is random.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from naive_nb.client import Job, ModelInfo, validate_input, validate_model
from naive_nb.errors import Interrupted, SubmissionOutcomeUnknown
from naive_nb.run.adoption import Adoption
from naive_nb.run.cache import RequestCache
from naive_nb.run.events import JobProgress, progress_of
from naive_nb.run.job_end import JobEnds
from naive_nb.run.journal import JobJournal
from naive_nb.run.keeper import JobSlots, Keeper, backend_host, journal_backend
from naive_nb.run.outcome import Adopted, FailedJob, Outcome, Repair, reason_of
from naive_nb.run.plan import Plan, PlannedJob
from naive_nb.run.problems import CacheMiss, InterruptReport
from naive_nb.run.records import JobRecord
from naive_nb.run.reporter import Reporter
from naive_nb.run.stopping import account_of, cancel_open, uncancel
from naive_nb.run.store import Damage, ResultStore

__all__ = ["Runner"]


class Runner:
    """Executes one :class:`Plan` (one instance per run; see the module docstring).

    One class, on purpose: the submit loop, the followers and the stop share one run's state
    (the jobs it learnt and has not settled, its followers, its results), and keeping that state
    in one object is what makes "a stop cancels every job whose id the run learnt" hold. What
    one accepted job comes to, which touches none of that state, is
    :class:`naive_nb.run.job_end.JobEnds`'s.
    """

    def __init__(
        self,
        plan: Plan,
        keeper: Keeper,
        reporter: Reporter,
        *,
        store: ResultStore,
        cache: RequestCache,
        journal: JobJournal,
    ) -> None:
        self.plan = plan
        self.keeper = keeper
        self.client = keeper.client
        self.reporter = reporter
        self.store = store
        self.cache = cache
        self.journal = journal
        self.adoption = Adoption(self.client, keeper, journal, store)
        self.outcome = Outcome(plan)
        self._backend = journal_backend(self.client)
        self._results: dict[int, JobRecord | FailedJob] = {}
        #: every job id this run learnt and has not settled: what a stop cancels
        self._open: dict[str, int] = {}
        self._followers: list[asyncio.Task[None]] = []
        self._account: Interrupted | None = None
        self._slots = JobSlots.of(self.client)
        self._ends = JobEnds(plan, keeper, reporter, self.adoption)

    # -- the run ----------------------------------------------------------------------------
    async def execute(self) -> Outcome:
        start = time.monotonic()
        plan = self.plan
        hits, damage = await asyncio.to_thread(lookup, plan, self.cache)
        # identical cells (one request key) run once; the others show what the first came to
        first: dict[str, int] = {}
        for index, job in enumerate(plan.jobs):
            first.setdefault(job.key, index)
            if first[job.key] != index:
                self.reporter.copies.setdefault(first[job.key], []).append(index)
        todo: list[int] = []
        for index, job in enumerate(plan.jobs):
            if job.key in hits or first[job.key] != index:
                continue
            repaired = await self._repair(job, damage[job.key]) if job.key in damage else None
            if repaired is None:
                todo.append(index)
            else:
                hits[job.key] = repaired
        if todo and plan.checked == "documented":
            await self._check_served(todo)
        for index, job in enumerate(plan.jobs):
            if job.key in hits:
                self.reporter.states[index] = JobProgress("cached", job_id=hits[job.key].job_id)
        try:
            await self._submit_all(todo)
            ended = await asyncio.gather(*self._followers, return_exceptions=True)
            errors = [e for e in ended if isinstance(e, BaseException)]
            if errors:  # a bug, not a job's failure (those are FailedJob values)
                raise errors[0]
        except asyncio.CancelledError as stop:
            uncancel()
            self.outcome.interrupted = await self._stop(stop)
        self.reporter.flush()
        for index, job in enumerate(plan.jobs):
            origin = first[job.key]
            result = hits.get(job.key) or self._results.get(origin)
            if result is None:
                continue
            self.outcome.by_index[index] = result
            if origin != index:
                continue  # a copy of an identical cell: one job, listed once
            if isinstance(result, JobRecord):
                self.outcome.records.append(result)
            else:
                self.outcome.failures.append(result)
        self.outcome.seconds = time.monotonic() - start
        return self.outcome

    async def _repair(self, job: PlannedJob, damage: Damage) -> JobRecord | None:
        """A damaged stored copy of ``job``: fetched again from its job on the server when that
        still has it (no new job, no charge); None when it must be run again."""
        stored_on = damage.record.backend if damage.record is not None else None
        record: JobRecord | None = None
        if stored_on in (
            None,
            "",
            journal_backend(self.client),
            backend_host(self.client.base_url),
        ):
            try:
                current = await self.client.get(damage.job_id)
                if current.status == "completed":
                    record = replace(await self.keeper.keep(job, current), from_cache=True)
            except Exception:  # gone (404, expired files) or unreachable: run it again
                record = None
        self.outcome.repairs.append(Repair(damage, job.seed, refetched=record is not None))
        return record

    async def _check_served(self, todo: list[int]) -> None:
        """Every job about to be sent, checked against the catalog the server (and the client's
        submit) uses, with its own model: a sweep is refused whole before its first job is
        sent."""
        catalog = await self.client.models()
        infos: dict[str, ModelInfo] = {}
        for index in todo:
            job = self.plan.jobs[index]
            if job.model not in infos:
                infos[job.model] = validate_model(job.model, catalog)
            validate_input(infos[job.model], job.input)

    # -- submitting, in the plan's order ------------------------------------------------------
    async def _submit_all(self, todo: list[int]) -> None:
        pending = self.adoption.pending_by_key() if todo and not self.plan.refresh else {}
        for index in todo:
            job = self.plan.jobs[index]
            await self._slots.acquire()
            self.reporter.update(index, status="submitting")
            try:
                accepted = await self._submit(index, job, pending)
            except BaseException:
                self._slots.release()
                raise
            if accepted is None:
                self._slots.release()
                continue
            follower = asyncio.ensure_future(self._follow(index, job, accepted))
            # released when the job is followed to its end, or its follower cancelled (even
            # before it started, when no `finally` inside it would run)
            follower.add_done_callback(lambda _: self._slots.release())
            self._followers.append(follower)

    async def _submit(
        self, index: int, job: PlannedJob, pending: dict[str, list[Any]]
    ) -> Job | None:
        """The job that answers ``job``: adopted, or submitted and journalled; None (and a
        failure recorded) when there is none."""
        mine = set(self._open) | {r.job_id for r in self._results.values() if r.job_id}
        adopted = await self.adoption.adopt(job, pending.get(job.key, []), mine)
        if adopted is not None:
            return self._adopted(index, *adopted)
        try:
            return await self.client.submit(
                job.model,
                job.input,
                on_submitted=self._journaller(index, job),
                on_notice=self.reporter.notice,
            )
        except asyncio.CancelledError as stop:
            account = account_of(stop)
            if account is not None:
                self._account = account
                self.adoption.interrupted(job, account)
            raise
        except SubmissionOutcomeUnknown as unknown:
            # every job it names is journalled before anything else happens
            self.adoption.claim(job, [c.id for c in unknown.candidates])
            entries = self.adoption.pending_by_key().get(job.key, [])
            adopted = await self.adoption.adopt(job, entries, mine, "candidate")
            if adopted is not None:
                return self._adopted(index, *adopted)
            left = {p.job_id for p in self.journal.pending()}
            named = tuple(c.id for c in unknown.candidates if c.id in left)
            self._fail(index, job, "outcome_unknown", still_running=bool(named), candidates=named)
            return None
        except Exception as error:
            if not self._followers and not self._results:
                raise  # nothing is running yet: the error is the whole story
            self._fail(index, job, "submit", reason=reason_of(error), error=error)
            return None

    def _adopted(self, index: int, current: Job, adopted: Adopted) -> Job:
        self.outcome.adopted.append(adopted)
        self._open[current.id] = index
        self.reporter.set(index, progress_of(current, since=self.reporter.elapsed))
        return current

    def _journaller(self, index: int, job: PlannedJob) -> Any:
        def write(accepted: Job) -> None:
            self.journal.submitted(accepted.id, job.model, job.input, job.key, self._backend)
            self._open[accepted.id] = index  # learnt: a stop from now on cancels it
            self.reporter.set(index, progress_of(accepted, since=self.reporter.elapsed))

        return write

    # -- following every accepted job at once --------------------------------------------------
    async def _follow(self, index: int, job: PlannedJob, accepted: Job) -> None:
        result = await self._ends.collect(index, job, accepted)
        for tried in self.adoption.alternatives.pop(accepted.id, []):
            if not (isinstance(result, FailedJob) and result.code == "not_this_request"):
                break
            self._open[tried.id] = index
            result = await self._ends.collect(index, job, tried)
        self._settle(index, accepted.id, result)

    def _fail(self, index: int, job: PlannedJob, code: str, **fields: Any) -> None:
        self._results[index] = FailedJob(job.model, job.input, code, **fields)
        self.reporter.update(index, status="failed")

    def _settle(self, index: int, job_id: str, result: JobRecord | FailedJob) -> None:
        """``result`` is what the job at ``index`` came to; the adoption that led to it is
        settled with the job it collected (and whether its record tied it to the request)."""
        self._results[index] = result
        for known, at in list(self._open.items()):
            if at == index:
                del self._open[known]
        if isinstance(result, FailedJob):
            self.reporter.update(index, status="failed")
            return
        for n, adopted in enumerate(self.outcome.adopted):
            if adopted.job_id == job_id:
                self.outcome.adopted[n] = replace(
                    adopted, job_id=result.job_id, verified=result.request_sent
                )

    async def _stop(self, stop: BaseException) -> InterruptReport:
        """Cancel every open job of a stopped run (see :mod:`naive_nb.run.stopping`)."""
        self._account = self._account or account_of(stop)
        for follower in self._followers:
            follower.cancel()
        await asyncio.gather(*self._followers, return_exceptions=True)
        handled = self._account.job_id if self._account is not None else None
        open_jobs = [job_id for job_id in self._open if job_id != handled]
        return await cancel_open(self.client, self.journal, open_jobs, self._account)


def lookup(plan: Plan, cache: RequestCache) -> tuple[dict[str, JobRecord], dict[str, Damage]]:
    """Cached records by key, and what was wrong with the damaged ones (a damaged copy is a
    miss, never a hit). A cache-only run raises on the first miss, before anything is sent."""
    found: dict[str, JobRecord] = {}
    damage: dict[str, Damage] = {}
    if plan.use_cache and not plan.refresh:
        for job in plan.jobs:
            if job.seed is None:  # random: a new image each time, never served from disk
                continue
            stored = cache.lookup(job.key)
            if stored.record is not None:
                found[job.key] = replace(stored.record, from_cache=True)
            elif stored.damage is not None:
                damage[job.key] = stored.damage
    if plan.cache_only:
        for job in plan.jobs:
            if job.key not in found:
                raise CacheMiss(job.key, job.model, job.seed, damage.get(job.key))
    return found, damage
