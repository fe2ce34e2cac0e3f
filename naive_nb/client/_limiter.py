"""One limiter per client, shared by every call it makes.

* a request budget fed by ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``: when the window is
  spent, nothing is sent until it resets (polling counts against the same limit as submits). The
  reset is read defensively (:func:`parse_reset`: Unix seconds, milliseconds or a delta, against
  the server's ``Date`` so a skewed clock does not matter); an absurd one is ignored;
* a line, for when the budget is short: a request goes at once while the budget left in the
  window exceeds the requests ahead of it in line, and otherwise waits for the next window.
  Work (submits, cancels and the reads they need: what keeps the server's workers busy) stands
  ahead of a wait's status polls (which only shorten how soon a finished job is seen): polls
  are deferred, never dropped. With budget to spare nobody waits, whatever their priority;
* a shared pause: when any call gets a 429, no call sends anything until its ``Retry-After`` has
  passed; then exactly one request (the first in line) probes, and the others follow once it
  succeeds;
* the job slots (:mod:`naive_nb.client._slots`), whose default cap follows the budget
  (:meth:`Gate.may_run_ahead`).

:class:`Gate` is the sans-IO state machine (fake-clock tested); :class:`Limiter` drives it
with asyncio. The limiter is bound to the event loop that first uses it. A caller gives
:meth:`Limiter.acquire` the longest it may wait; a known pause longer than that raises
:class:`Throttled` at once (the client turns it into a ``RateLimitError`` saying when to retry),
and a pause worth mentioning is reported to ``on_pause`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import IntEnum

from naive_nb.client._slots import JobSlot, SlotPool

__all__ = [
    "HORIZON",
    "REQUESTS_PER_JOB",
    "Admission",
    "Gate",
    "Limiter",
    "Priority",
    "Throttled",
    "parse_reset",
]

#: A rate-limit pause further ahead than this (seconds) is taken for a misread header (a reset in
#: milliseconds read as seconds, a wrong clock) and ignored: the server, which will answer 429
#: with a ``Retry-After`` if it really is over its limit, is the judge then. Naive's windows are
#: one minute long.
HORIZON = 3600.0
#: Pauses shorter than this are not reported to ``on_pause`` (nobody needs to read about them).
NOTICE_MIN = 1.0
#: How long a rate-limit window lasts (Naive's are a minute): a window whose reset has passed is
#: taken to end this much later, until a reply says when.
WINDOW = 60.0
#: Requests one job costs: its submit and the (at most) two looks its poll schedule aims for.
REQUESTS_PER_JOB = 3


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


class Priority(IntEnum):
    """Who goes first when the budget is short (lower first)."""

    WORK = 0  # submits, cancels and the reads they need: they keep the server's workers busy
    POLL = 1  # a wait's status looks: they only shorten how soon a finished job is seen


@dataclass(frozen=True)
class Admission:
    go: bool
    probe: bool = False
    until: float | None = None  # when not go: wait until this time (None: until a reply)


class Gate:
    """Decides whether a request may be sent now. Times are Unix seconds (``Reset`` is one).

    Requests that wait :meth:`join` the line under a number (the order they came in) and a
    :class:`Priority`; :meth:`admit` takes one out of it when it may go.
    """

    def __init__(self) -> None:
        self.paused_until: float | None = None
        self.probe_out = False
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self._line: dict[int, Priority] = {}

    # -- the line ---------------------------------------------------------------------------
    def join(self, number: int, priority: Priority) -> None:
        self._line[number] = priority

    def leave(self, number: int | None) -> None:
        if number is not None:
            self._line.pop(number, None)

    def in_line(self, number: int) -> bool:
        return number in self._line

    def ahead_of(self, number: int | None, priority: Priority) -> int:
        """Requests in line before this one: all of a higher priority, and those of its own
        that came first (``number`` None: one that would join now)."""
        return sum(
            1
            for other, rank in self._line.items()
            if other != number
            and (rank < priority or (rank == priority and (number is None or other < number)))
        )

    # -- deciding ---------------------------------------------------------------------------
    def left(self, now: float) -> int | None:
        """Requests the current window has left (None: unknown). A window whose reset has
        passed starts afresh, with the limit (the next reply says exactly)."""
        if self.reset_at is not None and now >= self.reset_at:
            self.remaining = self.limit
            # until a reply says when the new window ends; a late reply from the old one (its
            # reset is the old one) is then recognised as stale
            self.reset_at = max(now, self.reset_at + WINDOW) if self.limit is not None else None
        return self.remaining

    def blocked_until(self, now: float, priority: Priority = Priority.WORK) -> float | None:
        """When a request of ``priority`` joining now could go (``now``: at once), without
        admitting one; None while a probe is out (until it returns)."""
        if self.probe_out:
            return None
        if self.paused_until is not None and now < self.paused_until:
            return self.paused_until
        left = self.left(now)
        if left is not None and left <= self.ahead_of(None, priority):
            return self.reset_at
        return now

    def admit(
        self, now: float, number: int | None = None, priority: Priority = Priority.WORK
    ) -> Admission:
        """Whether the request ``number`` (in line; None: one not in line, nobody ahead of it)
        may go now. One that may go leaves the line and counts against the budget."""
        if self.probe_out:
            return Admission(False, until=None)
        ahead = self.ahead_of(number, priority) if number is not None else 0
        if self.paused_until is not None:
            if now < self.paused_until:
                return Admission(False, until=self.paused_until)
            if ahead:
                return Admission(False, until=None)  # the first in line probes; wait for it
            self.probe_out = True  # the pause is over: this request probes, the rest wait for it
            self.leave(number)
            return Admission(True, probe=True)
        left = self.left(now)
        if left is not None and left <= ahead:
            # spent, or what is left goes to those ahead in line: wait for the next window
            return Admission(False, until=self.reset_at)
        if left is not None:
            self.remaining = left - 1  # count requests in flight before their replies update us
        self.leave(number)
        return Admission(True)

    def may_run_ahead(self, now: float, in_flight: int, steady: int) -> bool:
        """Whether another job may be submitted although ``in_flight`` jobs already fill the
        ``steady`` cap: when the budget left in this window is short of what the jobs in flight
        and a cap's worth more cost (``REQUESTS_PER_JOB`` each), it runs out before the window
        resets, and a job submitted now keeps a worker busy through the wait that a slot freed
        by polls would not. Never more jobs in flight than a window has requests (each can be
        looked at, or cancelled, once), nor while a 429 pause is on."""
        if self.paused_until is not None and now < self.paused_until:
            return False
        left = self.left(now)
        if left is None or self.limit is None:
            return False
        return in_flight < self.limit and left < REQUESTS_PER_JOB * (in_flight + steady)

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
        with contextlib.suppress(KeyError, ValueError):
            limit = int(lowered["x-ratelimit-limit"])
            if limit > 0:
                self.limit = limit
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
    """asyncio driver of :class:`Gate`, and the client's job slots."""

    def __init__(
        self,
        *,
        max_jobs_in_flight: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gate = Gate()
        self._clock = clock
        self._changed: asyncio.Event | None = None
        self._numbers = itertools.count()
        self.slots: SlotPool = SlotPool(self.gate, clock, max_jobs_in_flight)
        self.max_jobs_in_flight = self.slots.steady

    @property
    def jobs(self) -> JobSlot:
        """One job slot (``async with limiter.jobs:`` holds it for a block)."""
        return JobSlot(self.slots)

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _wake(self) -> None:
        """Wake every waiter to re-check the gate, and hand out job slots the budget allows."""
        event = self._event()
        event.set()
        self._changed = asyncio.Event()
        self.slots.grant()

    def pause_left(self, priority: Priority = Priority.WORK) -> float | None:
        """Seconds until a request of ``priority`` could be sent (0: now; None: after a probe
        still out)."""
        now = self._clock()
        until = self.gate.blocked_until(now, priority)
        return None if until is None else max(0.0, until - now)

    async def acquire(
        self,
        *,
        priority: Priority = Priority.WORK,
        max_wait: float | None = None,
        on_pause: Callable[[float], Awaitable[None]] | None = None,
    ) -> Ticket:
        """Wait for the gate. ``max_wait``: the longest the caller may wait (None: no limit); a
        known pause beyond it raises :class:`Throttled` at once. ``on_pause(seconds)`` hears of
        each pause of ``NOTICE_MIN`` or more before it is waited out."""
        number = next(self._numbers)
        self.gate.join(number, priority)
        try:
            return await self._wait_turn(number, priority, max_wait, on_pause)
        finally:
            if self.gate.in_line(number):  # gave up (Throttled, cancelled): let the rest move
                self.gate.leave(number)
                self._wake()

    async def _wait_turn(
        self,
        number: int,
        priority: Priority,
        max_wait: float | None,
        on_pause: Callable[[float], Awaitable[None]] | None,
    ) -> Ticket:
        start = self._clock()
        end = None if max_wait is None else start + max(0.0, max_wait)
        announced: float | None = None
        while True:
            now = self._clock()
            admission = self.gate.admit(now, number, priority)
            if admission.go:
                self.slots.grant()  # the budget went down: it may be short now
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
        self._wake()  # a new pause, the probe came back, or a new budget
