"""``Client``: the synchronous client, running ``AsyncClient`` on one loop thread owned by naive-nb.

Why a thread: a notebook already runs an event loop in the main thread, so ``asyncio.run`` cannot
be used there, and ``nest_asyncio`` (which patches asyncio process-wide) is ruled out. All sync
clients share one daemon thread with its own loop; a call submits a coroutine to it and blocks.

While blocked, the calling thread waits on one queue, its inbox, which gives it two jobs:
* run the caller's callbacks (``on_submitted``, ``on_update``) *in the calling thread*, so that
  notebook output lands in the right cell; the coroutine posts each callback to the inbox and
  waits for it to finish, so a job id is journaled before polling starts. The coroutine's end is
  posted to the same inbox, so the caller returns the moment the call is done;
* receive Ctrl-C: a ``KeyboardInterrupt`` lands in the calling thread (the wait is interruptible,
  and where a platform's is not, it is cut into short slices), which then cancels the coroutine
  on the loop thread (``generate`` cancels the remote job) and waits for it to end, so no
  background work keeps polling after the call returns.
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import httpx

from naive_nb.client._async import AsyncClient
from naive_nb.client._callbacks import JobCallback, NoticeCallback, observed
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._types import GeneratedImage, Job, ModelInfo, Price, Result
from naive_nb.client._validation import DEFAULT_MODEL
from naive_nb.client._wait import DEFAULT_WAIT_TIMEOUT, ScheduleFactory
from naive_nb.errors import Interrupted

__all__ = ["Client", "LoopThread"]

T = TypeVar("T")
# How often a blocked caller wakes with nothing in its inbox: only so Ctrl-C is noticed on a
# platform whose queue wait a signal does not interrupt. Callbacks and the end wake it at once.
_TICK = 0.05
# How long an interrupted caller waits for the coroutine to wind down: an interrupted submit
# takes up to ~1 s for the POST's reply, ~1 s for the job list, ~1 s for the cancel.
_CANCEL_GRACE = 3.5


class LoopThread:
    """The process-wide event loop thread behind every sync ``Client``."""

    _instance: LoopThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="naive-nb-loop", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    @classmethod
    def get(cls) -> LoopThread:
        with cls._lock:
            if cls._instance is None or not cls._instance.thread.is_alive():
                cls._instance = cls()
            return cls._instance

    def run(self, coro: Coroutine[Any, Any, T], calls: _Inbox | None = None) -> T:
        """Run ``coro`` on the loop thread and block until it is done (see the module docstring).

        ``calls``: the inbox the coroutine's callbacks are posted to (see ``_bridge``)."""
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError(
                "naive_nb.Client was called from inside one of its own callbacks on the loop "
                "thread; use naive_nb.AsyncClient there."
            )
        finished = threading.Event()
        interrupted: list[Interrupted] = []

        async def guarded() -> T:
            try:
                return await coro
            except asyncio.CancelledError as exc:
                # the async client cancels as CancelledError(Interrupted(...)): keep its account
                if exc.args and isinstance(exc.args[0], Interrupted):
                    interrupted.append(exc.args[0])
                raise
            finally:
                finished.set()

        inbox: _Inbox = calls if calls is not None else queue.SimpleQueue()
        future = asyncio.run_coroutine_threadsafe(guarded(), self.loop)
        future.add_done_callback(lambda _: inbox.put(None))  # None: the call is over
        try:
            while True:
                # No `continue` in the `except`: an interrupt raised at that jump was seen to
                # escape the `except KeyboardInterrupt` below (CPython 3.11), leaving the
                # coroutine running alone.
                try:
                    call = inbox.get(timeout=_TICK)
                except queue.Empty:
                    pass
                else:
                    if call is None:
                        return future.result()
                    call.run(self.loop)
        except KeyboardInterrupt:
            future.cancel()  # -> CancelledError inside the coroutine, on the loop thread
            finished.wait(_CANCEL_GRACE)
            if interrupted:
                raise interrupted[0] from None
            raise


class _Call:
    """A callback the loop thread asks the calling thread to run; ``done`` reports back."""

    def __init__(self, fn: Callable[[Any], object], arg: Any, done: asyncio.Future[None]) -> None:
        self.fn, self.arg, self.done = fn, arg, done

    def run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            self.fn(self.arg)
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle, self.done, exc)
            raise
        loop.call_soon_threadsafe(_settle, self.done, None)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    elif isinstance(exc, KeyboardInterrupt):
        future.cancel()  # the caller is handling the interrupt; the coroutine gets cancelled
    else:
        future.set_exception(exc)


#: what the loop thread posts to a blocked caller: a callback to run, or None once the call is over
_Inbox = queue.SimpleQueue[_Call | None]


def _bridge(
    fn: Callable[[Any], object] | None, calls: _Inbox
) -> Callable[[Any], Awaitable[None]] | None:
    """Wrap a sync callback so the coroutine hands it to the calling thread and awaits it."""
    if fn is None:
        return None

    async def proxy(arg: Any) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        calls.put(_Call(fn, arg, done))
        await done

    return proxy


class Client:
    """Synchronous client of the Naive images API; the same surface as :class:`AsyncClient`.

    Safe to use from plain scripts and from inside a running event loop (Jupyter), without
    ``nest_asyncio``. Callbacks run in the calling thread.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_jobs_in_flight: int | None = None,
        validate: bool = True,
        on_submitted: JobCallback | None = None,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        poll_schedule: ScheduleFactory | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._thread = LoopThread.get()
        self._on_submitted = on_submitted
        self._on_update = on_update
        self._on_notice = on_notice

        async def build() -> AsyncClient:
            # Callbacks stay here: the sync client hands them to the calling thread per call.
            return AsyncClient(
                api_key,
                base_url=base_url,
                timeout=timeout,
                retry=retry,
                max_jobs_in_flight=max_jobs_in_flight,
                validate=validate,
                transport=transport,
                poll_schedule=poll_schedule,
                rng=rng,
            )

        self._async = self._thread.run(build())

    # ------------------------------------------------------------------ plumbing
    @property
    def async_client(self) -> AsyncClient:
        """The engine; use it from the loop thread only (e.g. ``await`` it in async code)."""
        return self._async

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def backend(self) -> str:
        return self._async.backend

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient(", "Client(", 1)

    def close(self) -> None:
        self._thread.run(self._async.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(
        self,
        coro: Coroutine[Any, Any, T],
        calls: _Inbox | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> T:
        """Run one call; its notices (``on_notice``, else the constructor's) reach the calling
        thread like the other callbacks."""
        notice = on_notice or self._on_notice
        if notice is None:
            return self._thread.run(coro, calls)
        if calls is None:
            calls = queue.SimpleQueue()
        return self._thread.run(observed(coro, _bridge(notice, calls)), calls)

    # ------------------------------------------------------------------ API
    def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        return self._run(self._async.models(refresh=refresh))

    def get(self, job_id: str) -> Job:
        return self._run(self._async.get(job_id))

    def jobs(self, status: str | None = None, limit: int = 20) -> list[Job]:
        return self._run(self._async.jobs(status, limit))

    def pricing(self, model: str = DEFAULT_MODEL, num_images: int = 1) -> Price:
        return self._run(self._async.pricing(model, num_images))

    def status(self) -> dict[str, Any]:
        return self._run(self._async.status())

    def usage(self, days: int = 30, limit: int = 50) -> dict[str, Any]:
        return self._run(self._async.usage(days, limit))

    def cancel(self, job_id: str, *, at_once: bool = False) -> Job:
        return self._run(self._async.cancel(job_id, at_once=at_once))

    def download(self, job: str | Job) -> list[GeneratedImage]:
        return self._run(self._async.download(job))

    def submit(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        on_submitted: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Job:
        calls: _Inbox = queue.SimpleQueue()
        callback = _bridge(on_submitted or self._on_submitted, calls)
        coro = self._async.submit(
            model, input, idempotency_key=idempotency_key, on_submitted=callback
        )
        return self._run(coro, calls, on_notice)

    def wait(
        self,
        job: str | Job,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Job:
        """See :meth:`AsyncClient.wait`: pass the ``Job`` from ``submit`` (not its id) to skip
        the immediate look and pace the first one from the submit."""
        calls: _Inbox = queue.SimpleQueue()
        callback = _bridge(on_update or self._on_update, calls)
        coro = self._async.wait(job, timeout=timeout, on_update=callback)
        return self._run(coro, calls, on_notice)

    def generate(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_MODEL,
        seed: int | None = None,
        num_images: int = 1,
        image_size: str | dict[str, int] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_submitted: JobCallback | None = None,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
        **params: Any,
    ) -> Result:
        calls: _Inbox = queue.SimpleQueue()
        coro = self._async.generate(
            prompt,
            model=model,
            seed=seed,
            num_images=num_images,
            image_size=image_size,
            idempotency_key=idempotency_key,
            timeout=timeout,
            on_submitted=_bridge(on_submitted or self._on_submitted, calls),
            on_update=_bridge(on_update or self._on_update, calls),
            **params,
        )
        return self._run(coro, calls, on_notice)
