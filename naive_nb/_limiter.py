"""One limiter per client, shared by every call it makes.

* a request budget fed by ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``: when the window is
  spent, nothing is sent until it resets (polling counts against the same limit as submits);
* a shared pause: when any call gets a 429, no call sends anything until its ``Retry-After`` has
  passed; then exactly one request (the probe) goes first, and the others follow once it succeeds;
* a cap on jobs in flight (submit to terminal status) for ``generate``.

:class:`Gate` is the sans-IO state machine (fake-clock tested); :class:`Limiter` drives it
with asyncio. The limiter is bound to the event loop that first uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Admission", "Gate", "Limiter"]


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
            self._update_budget(headers)
        if status == 429:
            pause = retry_after if retry_after is not None else 1.0
            until = now + pause
            self.paused_until = max(self.paused_until or 0.0, until)
            if probe:
                self.probe_out = False  # the probe failed: wait again, then probe again
            return
        if probe:
            self.probe_out = False
            if self.paused_until is not None and now >= self.paused_until:
                self.paused_until = None

    def _update_budget(self, headers: Mapping[str, str]) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            remaining = int(lowered["x-ratelimit-remaining"])
            reset = float(lowered["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if self.reset_at is None or reset >= self.reset_at:
            self.reset_at = reset
            self.remaining = remaining


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

    async def acquire(self) -> Ticket:
        while True:
            admission = self.gate.admit(self._clock())
            if admission.go:
                return Ticket(probe=admission.probe)
            event = self._event()
            timeout = None if admission.until is None else max(0.0, admission.until - self._clock())
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
