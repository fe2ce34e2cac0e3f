"""Job slots: how many of a client's jobs are in flight (submit to terminal status) at once.

``generate`` holds a slot from submit to download, and so does any caller that runs its own
submits and waits (``AsyncClient.job_slot()``; the run layer's sweeps do). The cap exists so a
client does not pile jobs into a server's queue faster than it follows them.

A cap the caller sets (``max_jobs_in_flight=N``) is exact. The default is ``STEADY`` jobs while
the request budget is ample, and follows the budget when it is short: a slot beyond ``STEADY``
is granted when the budget left in the rate-limit window will not carry the jobs in flight
through (:meth:`~naive_nb.client._limiter.Gate.may_run_ahead`). Those jobs are better handed to
the server now, while requests are left to submit them, than held until enough status polls
have freed slots: a queued job keeps a worker busy the moment one frees, whether or not anyone
looks at it, and the services queue rather than refuse (fal: "requests are never rejected due
to concurrency limits"). Never more jobs are in flight than one window's budget could look at
once each (or cancel).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from naive_nb.client._limiter import Gate

__all__ = ["STEADY", "JobSlot", "SlotPool"]

#: jobs in flight while the request budget is ample (the default cap)
STEADY = 8


class SlotPool:
    """The slots of one client: a FIFO of callers waiting for one, and the count held."""

    def __init__(self, gate: Gate, clock: Callable[[], float], cap: int | None) -> None:
        self._gate = gate
        self._clock = clock
        self.steady = STEADY if cap is None else cap
        self.exact = cap is not None  # a cap the caller set is never exceeded
        self.held = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    def _free(self) -> bool:
        if self.held < self.steady:
            return True
        return not self.exact and self._gate.may_run_ahead(self._clock(), self.held, self.steady)

    async def take(self) -> None:
        if not self._waiting and self._free():
            self.held += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.give_back()  # granted just as the waiter gave up: nobody keeps it
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def give_back(self) -> None:
        self.held -= 1
        self.grant()

    def grant(self) -> None:
        """Hand free slots to the callers waiting, first come first served. Called when a slot
        is given back and whenever the request budget changes (it may now be short)."""
        while self._waiting and self._free():
            turn = self._waiting.popleft()
            if turn.done():
                continue
            self.held += 1
            turn.set_result(None)


class JobSlot:
    """One of a client's job slots (``AsyncClient.job_slot()``).

    ``async with client.job_slot():`` holds it for a block. A hold that outlives one block (a job
    submitted here and followed to its end in another task) uses ``await slot.acquire()`` and
    ``slot.release()``. Releasing a slot not held does nothing, so the count stays exact however
    a caller's clean-up paths overlap.
    """

    __slots__ = ("_held", "_pool")

    def __init__(self, pool: SlotPool) -> None:
        self._pool = pool
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def acquire(self) -> JobSlot:
        """Wait for a free slot and take it; returns this slot."""
        if self._held:
            raise RuntimeError("this job slot is already held")
        await self._pool.take()
        self._held = True
        return self

    def release(self) -> None:
        if self._held:
            self._held = False
            self._pool.give_back()

    async def __aenter__(self) -> JobSlot:
        return await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()
