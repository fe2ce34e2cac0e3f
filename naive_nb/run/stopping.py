"""Stopping a run: every job it learnt of and has not settled is cancelled on the server.

The run's task is cancelled (a cancel token, or Ctrl-C in the thread that waits for it); it then
cancels its open jobs, concurrently, each within :data:`CANCEL_TIMEOUT`, closes in the journal
those the server confirms cancelled (or failed), and reports what became of each in an
:class:`InterruptReport` (a failed cancel with the exception behind it, for a front end to
word). A job it could not cancel stays journalled, to be collected or cancelled later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from naive_nb.client import Job
from naive_nb.errors import Interrupted
from naive_nb.run.journal import JobJournal
from naive_nb.run.keeper import Engine
from naive_nb.run.problems import InterruptReport

__all__ = ["CANCEL_TIMEOUT", "account_of", "cancel_open", "uncancel"]

#: how long the cancel of one job may take when a run is stopped
CANCEL_TIMEOUT = 10.0


async def cancel_open(
    client: Engine, journal: JobJournal, job_ids: Sequence[str], account: Interrupted | None
) -> InterruptReport:
    """Cancel ``job_ids`` concurrently; what became of each (``account``: the client's of a
    submit it cut short, whose job it dealt with itself)."""
    answers = await asyncio.gather(*(_cancel(client, job_id) for job_id in job_ids))
    cancelled, finished, failed = [], [], []
    for job_id, answer in zip(job_ids, answers, strict=True):
        if isinstance(answer, BaseException):
            failed.append((job_id, answer))
        elif answer.status == "cancelled":
            cancelled.append(job_id)
            journal.finished(job_id, "cancelled", "interrupted")
        else:  # it finished first: collectable (completed) or closed (failed)
            if answer.status == "failed":
                journal.finished(job_id, "failed", "finished before the cancel")
            finished.append((job_id, answer.status))
    return InterruptReport(tuple(cancelled), tuple(finished), tuple(failed), account)


async def _cancel(client: Engine, job_id: str) -> Job | Exception:
    """The job as the cancel left it, or the error that kept it from being cancelled (kept
    whole for a front end to word: a ``TimeoutError`` when no answer came within
    :data:`CANCEL_TIMEOUT`)."""
    try:
        # at once: held for the next rate-limit window, a running job would be charged
        return await asyncio.wait_for(client.cancel(job_id, at_once=True), CANCEL_TIMEOUT)
    except asyncio.TimeoutError:
        return TimeoutError(f"no answer within {CANCEL_TIMEOUT:g} s")
    except Exception as error:
        return error


def account_of(stop: BaseException) -> Interrupted | None:
    """The client's account of a submit cut short (it cancels as ``CancelledError(report)``)."""
    if isinstance(stop, Interrupted):
        return stop
    if stop.args and isinstance(stop.args[0], Interrupted):
        return stop.args[0]
    return None


def uncancel() -> None:
    """The run goes on after a stop to cancel its jobs: its task is no longer being cancelled."""
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):  # Python 3.11+
        with contextlib.suppress(Exception):
            task.uncancel()
