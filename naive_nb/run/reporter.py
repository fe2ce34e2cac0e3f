"""A run's progress as its observer sees it: every job's state, sent at most a few times a second.

The runner changes one job's state at a time (and the client's notices come in between); the
:class:`Reporter` keeps the whole run's state and hands the observer a :class:`RunProgress`
snapshot, throttled to one every ``interval`` seconds with a trailing update, so a long sweep
does not flood a front end and the last state is always seen. It lives on the event loop that
runs the run (the trailing update is a ``call_later`` there).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from naive_nb.run.events import JobProgress, RunProgress

__all__ = ["INTERVAL", "Observer", "Reporter"]

log = logging.getLogger("naive_nb.run")

#: at most this many seconds between two progress updates (about five a second)
INTERVAL = 0.2
Observer = Callable[[RunProgress], object]


class Reporter:
    """Holds each job's :class:`JobProgress` and reports the run to ``observer``."""

    def __init__(
        self,
        jobs: int,
        observer: Observer | None,
        *,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.states = [JobProgress() for _ in range(jobs)]
        #: jobs of identical cells, run once: each job's copies show the state it is in
        self.copies: dict[int, list[int]] = {}
        self._observer = observer
        self._interval = interval
        self._clock = clock
        self._start = clock()
        self._notice: str | None = None
        self._last = -float("inf")
        self._timer: asyncio.TimerHandle | None = None
        self._dirty = False

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    def set(self, index: int, state: JobProgress) -> None:
        """A job's new state; a status update ends the notice shown before it."""
        if state == self.states[index] and self._notice is None:
            return  # nothing new to report
        self.states[index] = state
        for copy in self.copies.get(index, ()):  # its credits are counted once, on the job
            self.states[copy] = replace(state, credits_used=None, estimated_credits=None)
        self._notice = None
        self._changed()

    def update(self, index: int, **changes: Any) -> None:
        self.set(index, replace(self.states[index], **changes))

    def notice(self, notice: object) -> None:
        """The client pauses (a rate limit, a retry): say why until the next status update."""
        self._notice = str(notice)
        self._changed()

    def snapshot(self) -> RunProgress:
        return RunProgress(tuple(self.states), self.elapsed, self._notice)

    def flush(self) -> None:
        """Report the current state now if it has not been reported yet."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._dirty:
            self._emit()

    def _changed(self) -> None:
        self._dirty = True
        if self._observer is None:
            return
        wait = self._last + self._interval - self._clock()
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop here (a test driving it directly): report at once
                self.flush()
                return
            self._timer = loop.call_later(wait, self.flush)

    def _emit(self) -> None:
        self._dirty = False
        self._last = self._clock()
        if self._observer is None:
            return
        try:
            self._observer(self.snapshot())
        except Exception:  # a display hiccup must never break the run it reports on
            log.exception("naive-nb: a progress observer failed")
