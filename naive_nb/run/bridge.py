"""Runs of the core on naive-nb's event-loop thread, seen from any other thread.

Every run is a coroutine on the loop thread behind the sync client (``LoopThread``), where the
``AsyncClient`` lives. From another thread it is either

- **blocked on** (:func:`run_blocking`): the calling thread waits, runs the run's callbacks
  itself (so a notebook's output lands in the right cell), and turns Ctrl-C into a cancel of
  the run, which then cancels its jobs and ends; a further Ctrl-C does not stop those cancels;
- **started** (:class:`RunHandle`): it goes on on the loop thread, and the handle cancels it,
  polls it, waits for it, or is awaited, from any thread or coroutine.

A :class:`CancelToken` stops a run from any thread (a panel's Cancel button, Ctrl-C).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["CancelToken", "RunHandle", "run_blocking", "start"]

log = logging.getLogger("naive_nb.run")
T = TypeVar("T")
_TICK = 0.05  # how often a blocked caller checks for callbacks, completion and Ctrl-C
Post = Callable[[Callable[[], object]], None]


class CancelToken:
    """Stops the run it is given to, from any thread; cancelling twice is cancelling once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._hooks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook()

    def _bind(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        """Cancel ``task`` (on ``loop``) when the token is cancelled, or at once if it was."""

        def hook() -> None:
            loop.call_soon_threadsafe(task.cancel)

        with self._lock:
            if not self._cancelled:
                self._hooks.append(hook)
                return
        hook()


async def _bound(coro: Coroutine[Any, Any, T], token: CancelToken) -> T:
    task = asyncio.current_task()
    assert task is not None
    token._bind(asyncio.get_running_loop(), task)
    return await coro


def run_blocking(
    loop: asyncio.AbstractEventLoop,
    build: Callable[[Post], Coroutine[Any, Any, T]],
    token: CancelToken | None = None,
) -> tuple[T, bool]:
    """Run the coroutine ``build(post)`` on ``loop`` (another thread's) and wait for it here.

    ``post(fn)``, called on the loop thread, has ``fn`` run in this thread. Ctrl-C here cancels
    ``token`` (the run ends by itself, cancelling what it must); it is not re-raised: the
    coroutine's result comes back with ``True`` for "interrupted". A coroutine that ended by
    being cancelled raises ``KeyboardInterrupt`` here.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise RuntimeError(
            "naive-nb was called from inside one of its own callbacks on its loop thread; "
            "use the started form (Session.start) there."
        )
    token = token or CancelToken()
    calls: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
    future = asyncio.run_coroutine_threadsafe(_bound(build(calls.put), token), loop)
    future.add_done_callback(lambda _: calls.put(_ended))  # wakes this thread at once
    interrupted = False
    while True:
        try:
            try:
                call = calls.get(timeout=_TICK)
            except queue.Empty:
                if future.done():
                    break
                continue
            if call is _ended:
                break
            _run_call(call)
        except KeyboardInterrupt:
            # the run cancels its jobs and ends; a further Ctrl-C lands here again and changes
            # nothing (the token is already cancelled): the cancels go on
            interrupted = True
            token.cancel()
    while True:  # what the run posted just before it ended
        try:
            call = calls.get_nowait()
            if call is not _ended:
                _run_call(call)
        except queue.Empty:
            break
        except KeyboardInterrupt:
            interrupted = True
    try:
        return future.result(), interrupted
    except concurrent.futures.CancelledError:
        raise KeyboardInterrupt from None


def _ended() -> None:
    """Put in the calls queue when the coroutine is done (never run)."""


def _run_call(call: Callable[[], object]) -> None:
    try:
        call()
    except Exception:  # a display hiccup must never break the run it reports on
        log.exception("naive-nb: a callback failed")


class RunHandle(Generic[T]):
    """A run started on the loop thread: cancel it, poll it, wait for it, or ``await`` it."""

    def __init__(self, future: concurrent.futures.Future[T], token: CancelToken) -> None:
        self._future = future
        self._token = token

    def cancel(self) -> None:
        """Stop the run: its open jobs are cancelled on the server, what finished is kept."""
        self._token.cancel()

    @property
    def cancelled(self) -> bool:
        return self._token.cancelled

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> T:
        """The run's result, waiting up to ``timeout`` seconds (``TimeoutError`` after that)."""
        return self._future.result(timeout)

    def __await__(self) -> Generator[Any, None, T]:
        return asyncio.wrap_future(self._future).__await__()


def start(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], token: CancelToken | None = None
) -> RunHandle[T]:
    """Start ``coro`` on ``loop`` and return at once."""
    token = token or CancelToken()
    return RunHandle(asyncio.run_coroutine_threadsafe(_bound(coro, token), loop), token)
