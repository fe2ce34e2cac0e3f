"""Collecting journalled or named jobs one at a time (``collect``, ``resume``), on the loop thread.

A finished job becomes a result: from the store if it is kept there whole, else fetched, stored
and returned. The request stored with it is the one this store sent (the journal has it); for a
job journalled as a claim (found after a lost submit reply), the claim its own record matches;
for a job this store never sent, the request rebuilt from the server's record, marked so and
never cached. A journalled job that can never be collected (failed, cancelled, unknown to the
server) gets its final journal event here, so it is not listed as pending forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from naive_nb.errors import APIConnectionError, JobCancelled, JobFailed, NotFoundError, WaitTimeout
from naive_nb.run.events import progress_of
from naive_nb.run.journal import JobJournal, PendingJob
from naive_nb.run.keeper import Keeper, backend_host, journal_backend, server_reason
from naive_nb.run.outcome import Outcome, Repair
from naive_nb.run.plan import PlannedJob
from naive_nb.run.problems import JobProblem
from naive_nb.run.reporter import Reporter
from naive_nb.run.reports import ResumeRow
from naive_nb.run.store import ResultStore

__all__ = ["collect_job", "resume_jobs"]


async def collect_job(
    job_id: str,
    keeper: Keeper,
    store: ResultStore,
    journal: JobJournal,
    reporter: Reporter,
    *,
    timeout: float,
    claims_only: bool = False,
) -> Outcome:
    """One job as an :class:`Outcome` of one record (see the module docstring).

    Raises :class:`JobProblem` ``ended`` (failed or cancelled; chained to the client's
    ``JobFailed`` / ``JobCancelled``), ``not_ours`` (``claims_only``: a claim matching no request
    of this store), or the client's error (``NotFoundError``: closed as lost in the journal when
    this backend is the one it was sent to).
    """
    start = time.monotonic()
    client = keeper.client
    entry = next((p for p in journal.pending() if p.job_id == job_id), None)
    outcome = Outcome()
    record, damage = store.check(job_id)
    if record is not None:
        if entry is not None:  # stored, then the kernel died before the journal said so
            journal.finished(job_id, "collected", "found in the store")
        outcome.records.append(record)
        return outcome
    if damage is not None and damage.problem != "manifest_missing":
        outcome.repairs.append(Repair(damage, None, refetched=True))
    try:
        job = await client.get(job_id)
    except NotFoundError:
        # lost only if this backend is the one it was sent to: another one never knew it
        if entry is not None and entry.backend in (None, journal_backend(client)):
            journal.finished(job_id, "lost", f"404 from {backend_host(client.base_url)}")
        raise
    cause: BaseException | None = None
    if not job.done:
        accepted = job
        reporter.set(0, progress_of(job, since=0.0))
        try:
            # the Job just fetched, not its id: no second look at once, paced by its age
            job = await keeper.wait(
                job,
                timeout,
                on_update=lambda j: reporter.set(0, progress_of(j, accepted, 0.0)),
                on_notice=reporter.notice,
                close=entry is not None,
            )
        except (JobFailed, JobCancelled) as error:
            job, cause = error.job or job, error
    if job.status != "completed":
        reason = server_reason(job)
        if entry is not None and cause is None and job.status in ("failed", "cancelled"):
            journal.finished(job_id, job.status, reason)
        if cause is None and job.status == "failed":
            cause = JobFailed(job_id, reason or "no reason given", job=job)
        elif cause is None and job.status == "cancelled":
            cause = JobCancelled(job_id, job=job)
        raise JobProblem(
            "ended",
            job_id,
            f"Job {job_id} ended {job.status}{': ' + reason if reason else ''}.",
            status=job.status,
            reason=reason,
        ) from cause
    reporter.update(0, status="downloading", progress=100.0)
    sent = entry if entry is not None and entry.verified else journal.request_of(job_id)
    kept = None
    if sent is not None:  # the request this store sent
        kept = await keeper.keep(PlannedJob(sent.model, sent.input), job)
    elif entry is not None:  # a claim: stored as the request its record matches
        kept = await keeper.keep_claimed(entry, job)
        if kept is None and claims_only:
            raise JobProblem(
                "not_ours",
                job_id,
                f"Job {job_id}: its prompt and seed match no request of this store.",
            )
    if kept is None:  # never sent from here (another kernel, the CLI), or not a claim's
        kept = await keeper.keep_reconstructed(job)
    reporter.update(0, status="done", credits_used=kept.credits_used)
    outcome.records.append(kept)
    outcome.seconds = time.monotonic() - start
    return outcome


async def resume_jobs(
    job_ids: Sequence[str],
    pending: dict[str, PendingJob],
    keeper: Keeper,
    store: ResultStore,
    journal: JobJournal,
    new_reporter: Callable[[], Reporter],
    *,
    timeout: float,
) -> list[ResumeRow]:
    """Collect journalled jobs one by one; one dead job never stops the others."""
    here = journal_backend(keeper.client)
    rows: list[ResumeRow] = []
    for n, job_id in enumerate(job_ids):
        entry = pending.get(job_id)
        if entry is not None and entry.backend and entry.backend != here:
            rows.append(ResumeRow(job_id, "skipped", {"backend": entry.backend, "here": here}))
            continue
        try:
            outcome = await collect_job(
                job_id,
                keeper,
                store,
                journal,
                new_reporter(),
                timeout=timeout,
                claims_only=True,
            )
        except JobProblem as problem:  # failed, cancelled, not ours: closed in the journal
            code = problem.detail.get("status", problem.code)
            rows.append(ResumeRow(job_id, code, dict(problem.detail), problem))
            continue
        except NotFoundError as error:  # closed in the journal by collect_job
            rows.append(ResumeRow(job_id, "lost", {"here": here}, error))
            continue
        except WaitTimeout as error:
            rows.append(ResumeRow(job_id, "still_running", {}, error))
            continue
        except APIConnectionError as error:
            rows.append(ResumeRow(job_id, "not_collected", {}, error))
            rows.extend(ResumeRow(rest, "not_tried") for rest in job_ids[n + 1 :])
            break
        except Exception as error:
            rows.append(ResumeRow(job_id, "not_collected", {}, error))
            continue
        images = sum(len(record.files) for record in outcome.records)
        rows.append(ResumeRow(job_id, "collected", {"images": images}, outcome=outcome))
    return rows
