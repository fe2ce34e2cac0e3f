"""Waiting for a job: the poll loop, paced by a ``PollSchedule``, the pace learned per model and
the client's :class:`~naive_nb.client._lineup.Lineup` of jobs in flight.

A wait looks at the job as its schedule says, and no sooner than the lineup expects it to have
started when it evidently waits in the server's queue behind others of ours (plans again
whenever the line moves); it folds a rate-limit pause into the schedule (and its deadline),
polls at the limiter's ``POLL`` priority (behind submits when the budget is short), hands each
look to ``on_update``, and returns the job's full record once it is done (raising for a failed
or cancelled job). Nothing keeps polling after it returns.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone

from naive_nb.client._callbacks import JobCallback, call_back
from naive_nb.client._limiter import NOTICE_MIN, Priority
from naive_nb.client._lineup import Lineup
from naive_nb.client._polling import PollSchedule
from naive_nb.client._retry import parse_retry_after
from naive_nb.client._transport import Transport
from naive_nb.client._types import Job, check_job_id
from naive_nb.errors import JobCancelled, JobFailed, WaitTimeout

__all__ = ["DEFAULT_WAIT_TIMEOUT", "Pace", "ScheduleFactory", "read_job", "settled", "wait_for"]

DEFAULT_WAIT_TIMEOUT = 600.0
ScheduleFactory = Callable[[float | None, float], PollSchedule]


class Pace:
    """Poll schedules, scaled per model by how long its jobs really ran against their estimate,
    and the lineup of the client's jobs in flight that every wait shares.

    ``factory`` (tests, benchmarks) replaces the learned schedule altogether.
    """

    def __init__(self, factory: ScheduleFactory | None, rng: random.Random) -> None:
        self._factory = factory
        self._rng = rng
        self.lineup = Lineup()
        self._seen_changes = 0
        self._moved: asyncio.Event | None = None
        # per model: how long jobs really ran, as a fraction of their estimate (recent ones)
        self._ratios: dict[str, deque[float]] = {}
        # per model: whether its running jobs report `progress` (the contract says they "may");
        # a schedule that expects none skips the early look that progress would have paid for
        self._reports_progress: dict[str, bool] = {}

    def schedule(self, job: Job, start: float) -> PollSchedule:
        if self._factory is not None:
            return self._factory(job.estimated_seconds, start)
        estimate = job.estimated_seconds
        ratios = self._ratios.get(job.model or "")
        if estimate and ratios and len(ratios) >= 3:
            # The server's estimates may be off for this model (pessimistic, or a local server
            # running faster than real time): scale by how long its jobs really ran.
            estimate *= min(20.0, max(0.05, statistics.median(ratios)))
        expect = self._reports_progress.get(job.model or "", True)
        return PollSchedule(estimate, start=start, rng=self._rng, expect_progress=expect)

    def saw(self, job: Job) -> None:
        """Note whether a running job of this model reported its progress."""
        if job.status == "processing" and job.model:
            self._reports_progress[job.model] = job.progress is not None

    def line_moved(self) -> None:
        """Wake the waits sleeping on the lineup when its predictions may have moved."""
        if self.lineup.changes != self._seen_changes:
            self._seen_changes = self.lineup.changes
            if self._moved is not None:
                self._moved.set()
                self._moved = None

    async def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when the lineup moved meanwhile (plan again)."""
        if self._moved is None:
            self._moved = asyncio.Event()
        try:
            await asyncio.wait_for(self._moved.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    def learn(self, job: Job) -> None:
        if job.status != "completed" or not job.estimated_seconds or not job.model:
            return
        if job.started_at is None or job.completed_at is None:
            return
        ran = (job.completed_at - job.started_at).total_seconds()
        if ran > 0:
            ratios = self._ratios.setdefault(job.model, deque(maxlen=20))
            ratios.append(ran / job.estimated_seconds)


async def read_job(
    transport: Transport, job_id: str, priority: Priority = Priority.WORK
) -> tuple[Job, float | None]:
    """The job's full record, and the reply's ``Retry-After`` (a hint for the next look)."""
    path = f"/v1/jobs/{check_job_id(job_id)}"
    response = await transport.request("GET", path, priority=priority)
    return Job.from_api(response.json()), parse_retry_after(response.headers, now=time.time())


async def wait_for(
    transport: Transport,
    pace: Pace,
    job: str | Job,
    timeout: float | None,
    on_update: JobCallback | None,
) -> Job:
    """Poll until the job is done (see ``AsyncClient.wait``)."""
    limit = DEFAULT_WAIT_TIMEOUT if timeout is None else timeout
    now = time.monotonic()
    deadline = now + limit
    # `origin`: when the job was created, on our clock. Known when this client submitted it
    # (`accepted_at`; server timestamps are then only compared with each other: no clock
    # skew); else estimated from the wall clock.
    origin: float | None
    if isinstance(job, Job) and job.done and job.needs_full_record:
        # A list item (a job found by reconciliation, say) has no media, result or error:
        # it must not be returned as finished. Its full record is read at once.
        job = job.id
    if isinstance(job, Job):
        current = job
        origin = job.accepted_at if job.accepted_at is not None else _origin(job, now)
        schedule = pace.schedule(job, now if origin is None else origin)
        retry_after = None
    else:
        current, retry_after = await read_job(transport, job, Priority.POLL)
        pace.saw(current)
        await call_back(on_update, current)
        origin = _origin(current, now)
        schedule = pace.schedule(current, now if origin is None else origin)
    line = pace.lineup
    line.add(
        current.id,
        accepted=now if origin is None else origin,
        seconds=schedule.estimate,
        model=current.model or "",
        estimate=current.estimated_seconds,
    )
    try:
        if not isinstance(job, Job):
            _observe(schedule, line, current, retry_after, origin)
            pace.line_moved()
        current = await _poll(
            transport, pace, schedule, current, origin, (deadline, limit), on_update
        )
    finally:
        line.remove(current.id)
        pace.line_moved()
    pace.learn(current)
    return settled(current)


async def _poll(
    transport: Transport,
    pace: Pace,
    schedule: PollSchedule,
    current: Job,
    origin: float | None,
    until: tuple[float, float],
    on_update: JobCallback | None,
) -> Job:
    """Look at the job until it is done (see :func:`wait_for`); ``until``: the deadline, and
    the timeout it came from."""
    deadline, limit = until
    limiter = transport.limiter
    line = pace.lineup
    announced: float | None = None  # the end of the last pause said (said once, not per plan)
    while not current.done:
        now = time.monotonic()
        if now >= deadline:
            raise WaitTimeout(current.id, current.status, limit, job=current)
        delay = schedule.delay(now)
        start = line.start_of(current.id)
        if start is not None:  # queued behind others of ours: nothing to see before it starts
            delay = max(delay, schedule.first_look(start, line.pace(current.id)) - now)
        pause = limiter.pause_left(Priority.POLL)
        if pause is not None and pause > delay:
            # The rate limit holds the next look longer than the schedule would: say why
            # the wait stalls, then sleep through the pause. It counts against the wait's
            # deadline (a pause past it ends in WaitTimeout: the job keeps running).
            if pause >= NOTICE_MIN and (announced is None or abs(now + pause - announced) > 0.5):
                announced = now + pause
                await transport.notify(
                    "rate_limited", pause, f"rate limited, resuming in {pause:.0f} s", current.id
                )
            delay = pause
        if delay > 0:
            if await pace.sleep(min(delay, deadline - now)):
                continue  # the line moved: plan again
            if time.monotonic() >= deadline and (limiter.pause_left(Priority.POLL) or 0.0) > 0:
                raise WaitTimeout(current.id, current.status, limit, job=current)
        current, retry_after = await read_job(transport, current.id, Priority.POLL)
        pace.saw(current)
        _observe(schedule, line, current, retry_after, origin)
        pace.line_moved()
        await call_back(on_update, current)
    return current


def settled(job: Job) -> Job:
    """A finished job as its caller takes it: completed, or raised as failed / cancelled."""
    if job.status == "completed":
        return job
    if job.status == "cancelled":
        raise JobCancelled(job.id, job=job)
    error = job.error or {}
    message = error.get("message") if isinstance(error.get("message"), str) else "no reason given"
    code = error.get("code") if isinstance(error.get("code"), str) else None
    raise JobFailed(job.id, str(message), code=code, job=job)


def _observe(
    schedule: PollSchedule,
    line: Lineup,
    job: Job,
    retry_after: float | None,
    origin: float | None,
) -> None:
    """Tell the schedule and the lineup what a look at the job showed."""
    now = time.monotonic()
    since = _running_since(job, origin)
    ended = _on_our_clock(job.completed_at, job, origin)
    schedule.observe(
        now=now,
        status=job.status,
        retry_after=retry_after,
        progress=job.progress,
        running_since=since,
    )
    line.saw(
        job.id,
        now=now,
        status=job.status,
        progress=job.progress,
        running_since=since,
        ended=ended,
    )


def _running_since(job: Job, origin: float | None) -> float | None:
    """When the job started running, on our monotonic clock (None when unknown)."""
    return _on_our_clock(job.started_at, job, origin)


def _on_our_clock(stamp: datetime | None, job: Job, origin: float | None) -> float | None:
    """A server time of the job (its start, its end) on our monotonic clock (None when unknown):
    only compared with the job's own creation, so clock skew does not matter."""
    if origin is None or stamp is None or job.created_at is None:
        return None
    return origin + max(0.0, (stamp - job.created_at).total_seconds())


def _origin(job: Job, now: float) -> float | None:
    """When a job we did not submit was created, on our monotonic clock, from the wall clock.

    Only plausible ages are trusted (clock skew with a hosted server is usually small, and a bad
    guess costs a couple of polls at most: predictions are bounded).
    """
    if job.created_at is None:
        return None
    age = (datetime.now(timezone.utc) - job.created_at).total_seconds()
    if not 0 <= age < 86_400:
        return None
    return now - age
