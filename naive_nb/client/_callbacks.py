"""How a call reports back while it runs: job callbacks and pause notices.

A callback may be a plain function or return an awaitable (the sync client's bridge to the
calling thread returns one, and the coroutine waits for it). The notice callback of the call in
progress is a context variable, so every request a call makes, however deep, finds it.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

from naive_nb.client._types import Job, Notice

__all__ = ["JobCallback", "NoticeCallback", "call_back", "notify", "observed"]

#: A callback receiving a Job; it may be a plain function or return an awaitable.
JobCallback = Callable[[Job], Awaitable[object] | object]
#: A callback receiving a Notice (why a call pauses); a plain function or returning an awaitable.
NoticeCallback = Callable[[Notice], Awaitable[object] | object]
T = TypeVar("T")

# The per-call notice callback (set by submit/wait/generate's `on_notice`, and by the sync client
# around every call).
_NOTICE: contextvars.ContextVar[NoticeCallback | None] = contextvars.ContextVar(
    "naive_nb_notice", default=None
)


async def observed(coro: Awaitable[T], on_notice: NoticeCallback | None) -> T:
    """Await ``coro`` with ``on_notice`` hearing of its pauses (used by the sync client)."""
    token = _NOTICE.set(on_notice) if on_notice is not None else None
    try:
        return await coro
    finally:
        if token is not None:
            _NOTICE.reset(token)


async def call_back(callback: JobCallback | None, job: Job) -> None:
    if callback is None:
        return
    outcome = callback(job)
    if inspect.isawaitable(outcome):
        await outcome


async def notify(notice: Notice, fallback: NoticeCallback | None) -> None:
    """Tell the call's notice callback (else ``fallback``, the client's) why the call pauses."""
    callback = _NOTICE.get() or fallback
    if callback is None:
        return
    outcome = callback(notice)
    if inspect.isawaitable(outcome):
        await outcome
