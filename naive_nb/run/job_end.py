"""What one accepted job of a run comes to: its images kept, or a labelled :class:`FailedJob`.

The runner (:mod:`naive_nb.run.runner`) follows every accepted job at once; for each, a
:class:`JobEnds` waits for it (its progress reported as it goes), keeps its images
(:class:`naive_nb.run.keeper.Keeper`; a claim adopted after a lost submit reply is checked to be
this request's job) and words every other end as a failure code: ``failed``, ``cancelled``,
``timeout``, ``no_images``, ``lost_contact``, ``download``, ``not_this_request``. It holds none
of the run's own state (the jobs it learnt and has not settled): the runner settles the result.
"""

from __future__ import annotations

from naive_nb.client import Job
from naive_nb.errors import JobCancelled, JobError, JobFailed, NaiveError, WaitTimeout
from naive_nb.run.adoption import Adoption
from naive_nb.run.events import progress_of
from naive_nb.run.keeper import Keeper
from naive_nb.run.outcome import FailedJob, reason_of
from naive_nb.run.plan import Plan, PlannedJob
from naive_nb.run.problems import EmptyResult
from naive_nb.run.records import JobRecord
from naive_nb.run.reporter import Reporter

__all__ = ["JobEnds"]


class JobEnds:
    """What each accepted job of ``plan`` comes to (one instance per run; see the module
    docstring)."""

    def __init__(self, plan: Plan, keeper: Keeper, reporter: Reporter, adoption: Adoption) -> None:
        self.plan = plan
        self.keeper = keeper
        self.reporter = reporter
        self.adoption = adoption

    async def collect(self, index: int, job: PlannedJob, accepted: Job) -> JobRecord | FailedJob:
        known = self.reporter.states[index]  # accepted a moment ago: its clock runs since then
        since = known.since if known.job_id == accepted.id else None
        since = self.reporter.elapsed if since is None else since
        self.reporter.set(index, progress_of(accepted, since=since))
        try:
            finished = await self.keeper.wait(
                accepted,
                self.plan.timeout,
                on_update=lambda j: self.reporter.set(index, progress_of(j, accepted, since)),
                on_notice=self.reporter.notice,
            )
        except JobFailed as error:
            return self.failure(job, accepted, "failed", error, error.server_message.rstrip(". "))
        except JobCancelled as error:
            return self.failure(job, accepted, "cancelled", error, "")
        except WaitTimeout as error:
            return self.failure(job, accepted, "timeout", error, "", running=True)
        except JobError as error:
            if error.job is not None and error.job.status == "completed":
                return self.failure(job, accepted, "no_images", error, "", running=True)
            return self.failure(job, accepted, "lost_contact", error, running=True)
        except NaiveError as error:
            return self.failure(job, accepted, "lost_contact", error, running=True)
        self.reporter.update(index, status="downloading", progress=100.0)
        try:
            claimed = self.adoption.unverified.pop(accepted.id, None)
            if claimed is None:
                record = await self.keeper.keep(job, finished)
                self.reporter.update(index, status="done", credits_used=record.credits_used)
                return record
            claimed_record = await self.keeper.keep_claimed(claimed, finished)
        except EmptyResult as error:
            return self.failure(job, accepted, "no_images", error, "", running=True)
        except Exception as error:
            return self.failure(job, accepted, "download", error)
        if claimed_record is None or (
            claimed_record.request_sent and claimed_record.cache_key != job.key
        ):
            return self.failure(job, accepted, "not_this_request")
        self.reporter.update(index, status="done", credits_used=claimed_record.credits_used)
        return claimed_record

    def failure(
        self,
        job: PlannedJob,
        accepted: Job,
        code: str,
        error: Exception | None = None,
        reason: str | None = None,
        *,
        running: bool = False,
    ) -> FailedJob:
        """What a job came to; the error behind it is kept, for a front end to word."""
        return FailedJob(
            job.model,
            job.input,
            code,
            accepted.id,
            still_running=running,
            reason=reason if reason is not None else reason_of(error),
            timeout=self.plan.timeout if code == "timeout" else None,
            error=error,
        )
