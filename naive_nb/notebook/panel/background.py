"""Where the panel's background work runs: naive-nb's event-loop thread, and one worker thread.

Not the kernel's own asyncio loop: on ipykernel 7 a task made there stops when its cell ends
and resumes only when the next cell runs (ipykernel#1510), so a debounce timer or a run started
from a button would freeze. naive-nb's loop thread runs all the time; its timers (the debounced
cost preview, the progress clock) and the runs themselves live there. Blocking work (a price
asked of the sync client, thumbnails, the record's images) goes to the panel's one worker
thread, so the loop is never held up; one worker also keeps that work in the order it was asked.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["Background"]

T = TypeVar("T")


class Background:
    """The loop thread and the panel's worker; safe to call from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._worker = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="naive-nb-panel"
        )
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._lock = threading.Lock()
        self.closed = False

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop thread; returns at once."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the worker thread, awaited on the loop."""
        return await self.loop.run_in_executor(self._worker, fn, *args)

    def later(
        self, name: str, delay: float, work: Callable[[], Coroutine[Any, Any, object]]
    ) -> None:
        """Run ``work()`` on the loop thread ``delay`` seconds from now, replacing a call of the
        same ``name`` not yet made (a debounce: only the last of quick changes is acted on)."""

        def arm() -> None:
            with self._lock:
                if self.closed:
                    return
                old = self._timers.pop(name, None)
                if old is not None:
                    old.cancel()
                self._timers[name] = self.loop.call_later(delay, fire)

        def fire() -> None:
            with self._lock:
                self._timers.pop(name, None)
            task = self.loop.create_task(work())
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._tasks.discard)

        self.loop.call_soon_threadsafe(arm)

    def close(self) -> None:
        """Drop the timers not yet fired (no new ones are armed); the worker stays for a run
        still going, until :meth:`shutdown`."""
        with self._lock:
            self.closed = True
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            self.loop.call_soon_threadsafe(timer.cancel)

    def shutdown(self) -> None:
        """Let the worker thread end once the work it was given is done."""
        self._worker.shutdown(wait=False)
