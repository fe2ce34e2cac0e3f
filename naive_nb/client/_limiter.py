"""One limiter per client, shared by every call it makes.

* a request budget fed by ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``: when the window is
  spent, nothing is sent until it resets (polling counts against the same limit as submits). The
  reset is read defensively (:func:`parse_reset`: Unix seconds, milliseconds or a delta, against
  the server's ``Date`` so a skewed clock does not matter); an absurd one is ignored;
* a shared pause: when any call gets a 429, no call sends anything until its ``Retry-After`` has
  passed; then exactly one request (the probe) goes first, and the others follow once it succeeds;
* a cap on jobs in flight (submit to terminal status): ``generate`` holds a :class:`JobSlot`,
  and so can any caller that runs its own submit and wait (``AsyncClient.job_slot()``).

:class:`Gate` is the sans-IO state machine (fake-clock tested); :class:`Limiter` drives it
with asyncio. The limiter is bound to the event loop that first uses it. A caller gives
:meth:`Limiter.acquire` the longest it may wait; a known pause longer than that raises
:class:`Throttled` at once (the client turns it into a ``RateLimitError`` saying when to retry),
and a pause worth mentioning is reported to ``on_pause`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = ["HORIZON", "Admission", "Gate", "JobSlot", "Limiter", "Throttled", "parse_reset"]

#: A rate-limit pause further ahead than this (seconds) is taken for a misread header (a reset in
#: milliseconds read as seconds, a wrong clock) and ignored: the server, which will answer 429
#: with a ``Retry-After`` if it really is over its limit, is the judge then. Naive's windows are
#: one minute long.
HORIZON = 3600.0
#: Pauses shorter than this are not reported to ``on_pause`` (nobody needs to read about them).
NOTICE_MIN = 1.0


def parse_reset(headers: Mapping[str, str], *, now: float) -> float | None:
    """When the ``X-RateLimit-Reset`` window ends, as a Unix time on *our* clock, or None.

    Naive documents Unix seconds; some servers send milliseconds, or the seconds left (a delta).
    The value is compared with the server's own ``Date`` (when sent), so skew between the clocks
    does not stretch or shorten the pause. Negative, unparseable, or absurd values (more than
    ``HORIZON`` ahead however read) give None.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get("x-ratelimit-reset")
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    ref = _server_time(lowered.get("date"))
    if ref is None:
        ref = now
    if value >= ref - HORIZON:  # a point in time near the server's now: Unix seconds, or ms
        at = value
        if at > ref + HORIZON:
            at = value / 1000.0
            if not ref - HORIZON <= at <= ref + HORIZON:
                return None
    elif value <= HORIZON:  # far below any plausible Unix time: the seconds left
        at = ref + value
    else:
        return None
    return now + (at - ref)


def _server_time(date: str | None) -> float | None:
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return None if when is None else when.timestamp()


class Throttled(Exception):
    """The gate will not open within the time the caller may wait (``wait``: seconds, or None
    while a probe is out)."""

    def __init__(self, wait: float | None, allowed: float) -> None:
        super().__init__(f"rate limited for {wait} s, may wait {allowed} s")
        self.wait = wait
        self.allowed = allowed


@dataclass(frozen=True)
class Admission:
    go: bool
    probe: bool = False
    until: float | None = None  # when not go: wait until this time (None: until the probe ends)


class Gate:
    """Decides whether a request may be sent now. Times are Unix seconds (``Reset`` is one)."""

    def __init__(self) -> None:
        self.paused_until: float | None = None
        self.probe_out = False
        self.remaining: int | None = None
        self.reset_at: float | None = None

    def blocked_until(self, now: float) -> float | None:
        """When a request could go (``now`` when it could go at once), without admitting one;
        None while a probe is out (until it returns)."""
        if self.probe_out:
            return None
        if self.paused_until is not None and now < self.paused_until:
            return self.paused_until
        if (
            self.remaining is not None
            and self.remaining <= 0
            and self.reset_at is not None
            and now < self.reset_at
        ):
            return self.reset_at
        return now

    def admit(self, now: float) -> Admission:
        if self.probe_out:
            return Admission(False, until=None)
        if self.paused_until is not None:
            if now < self.paused_until:
                return Admission(False, until=self.paused_until)
            self.probe_out = True  # the pause is over: this request probes, the rest wait for it
            return Admission(True, probe=True)
        if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None:
            if now < self.reset_at:
                return Admission(False, until=self.reset_at)
            self.remaining = None  # a new window; the next reply tells us its size
        if self.remaining is not None:
            self.remaining -= 1  # count requests in flight before their replies update us
        return Admission(True)

    def done(
        self,
        now: float,
        *,
        probe: bool,
        status: int | None,
        retry_after: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Record the outcome of an admitted request (status None: no reply)."""
        if headers is not None:
            self._update_budget(headers, now)
        if status == 429:
            pause = retry_after if retry_after is not None else 1.0
            if pause > HORIZON:
                pause = 1.0  # a misread header must not silence the client for days
            until = now + pause
            self.paused_until = max(self.paused_until or 0.0, until)
            if probe:
                self.probe_out = False  # the probe failed: wait again, then probe again
            return
        if probe:
            self.probe_out = False
            if self.paused_until is not None and now >= self.paused_until:
                self.paused_until = None

    def _update_budget(self, headers: Mapping[str, str], now: float) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            remaining = int(lowered["x-ratelimit-remaining"])
        except (KeyError, ValueError):
            return
        reset = parse_reset(lowered, now=now)
        if reset is None:
            return  # no usable reset: a budget we could not see the end of would block forever
        if self.reset_at is None or reset > self.reset_at - _SAME_WINDOW:
            # The latest reply is the truth. A reset a little earlier than the one we hold is
            # the same window (``Date`` has whole seconds, so the reset on our clock wobbles);
            # a much earlier one is a stale reply that landed late.
            self.reset_at = reset if self.reset_at is None else max(self.reset_at, reset)
            self.remaining = remaining


_SAME_WINDOW = 2.0  # seconds: resets this close belong to one window


@dataclass
class Ticket:
    probe: bool


class Limiter:
    """asyncio driver of :class:`Gate`, plus the jobs-in-flight semaphore."""

    def __init__(
        self,
        *,
        max_jobs_in_flight: int = 8,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gate = Gate()
        self._clock = clock
        self._changed: asyncio.Event | None = None
        self._jobs: asyncio.Semaphore | None = None
        self.max_jobs_in_flight = max_jobs_in_flight

    @property
    def jobs(self) -> asyncio.Semaphore:
        if self._jobs is None:
            self._jobs = asyncio.Semaphore(self.max_jobs_in_flight)
        return self._jobs

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def pause_left(self) -> float | None:
        """Seconds until a request could be sent (0: now; None: after a probe still out)."""
        now = self._clock()
        until = self.gate.blocked_until(now)
        return None if until is None else max(0.0, until - now)

    async def acquire(
        self,
        *,
        max_wait: float | None = None,
        on_pause: Callable[[float], Awaitable[None]] | None = None,
    ) -> Ticket:
        """Wait for the gate. ``max_wait``: the longest the caller may wait (None: no limit); a
        known pause beyond it raises :class:`Throttled` at once. ``on_pause(seconds)`` hears of
        each pause of ``NOTICE_MIN`` or more before it is waited out."""
        start = self._clock()
        end = None if max_wait is None else start + max(0.0, max_wait)
        announced: float | None = None
        while True:
            now = self._clock()
            admission = self.gate.admit(now)
            if admission.go:
                return Ticket(probe=admission.probe)
            until = admission.until
            if end is not None and (
                (until is None and now >= end) or (until is not None and until > end)
            ):
                raise Throttled(None if until is None else until - now, end - start)
            if (
                until is not None
                and on_pause is not None
                and until - now >= NOTICE_MIN
                and (announced is None or abs(until - announced) > 0.5)
            ):
                announced = until
                await on_pause(until - now)
                continue  # the callback took time: look again
            event = self._event()
            timeout = None if until is None else max(0.0, until - self._clock())
            if end is not None:
                timeout = max(0.0, end - self._clock()) if timeout is None else timeout
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)

    def release(
        self,
        ticket: Ticket,
        *,
        status: int | None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.gate.done(
            self._clock(),
            probe=ticket.probe,
            status=status,
            retry_after=retry_after,
            headers=headers,
        )
        # Wake every waiter to re-check the gate (a new pause, or the probe came back).
        event = self._event()
        event.set()
        self._changed = asyncio.Event()


class JobSlot:
    """One of a client's ``max_jobs_in_flight`` slots (``AsyncClient.job_slot()``).

    ``async with client.job_slot():`` holds it for a block. A hold that outlives one block (a job
    submitted here and followed to its end in another task) uses ``await slot.acquire()`` and
    ``slot.release()``. Releasing a slot not held does nothing, so the cap stays exact however
    a caller's clean-up paths overlap.
    """

    __slots__ = ("_held", "_limiter")

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def acquire(self) -> JobSlot:
        """Wait for a free slot and take it; returns this slot."""
        if self._held:
            raise RuntimeError("this job slot is already held")
        await self._limiter.jobs.acquire()
        self._held = True
        return self

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limiter.jobs.release()

    async def __aenter__(self) -> JobSlot:
        return await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()
