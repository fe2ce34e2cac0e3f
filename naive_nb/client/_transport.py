"""One exchange with the API, and the one retry loop every request goes through.

:meth:`Transport.send` is one HTTP exchange: the auth header, a ticket from the client-wide
limiter, transport errors classified for the retry decision and described without the key; it
never raises them. :meth:`Transport.fetch` is one exchange with a file host, with no key at all.
:func:`retrying` repeats an attempt as the sans-IO :func:`~naive_nb.client._retry.decide` says:
reads and cancels (:meth:`Transport.request`), submits (which look in the job list before
resending) and downloads alike.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from naive_nb.client._backend import Backend, scrub
from naive_nb.client._callbacks import NoticeCallback, notify
from naive_nb.client._envelope import error_code, error_for, throttled
from naive_nb.client._limiter import NOTICE_MIN, Limiter, Priority, Throttled
from naive_nb.client._retry import (
    Action,
    Decision,
    Failure,
    Kind,
    RetryPolicy,
    decide,
    may_have_created,
    parse_retry_after,
)
from naive_nb.client._types import Notice
from naive_nb.errors import NaiveError

__all__ = ["Failed", "Transport", "retrying"]

log = logging.getLogger("naive_nb.client")
T = TypeVar("T")

# A rate-limit reset and a `Date` in whole seconds make a fresh one-minute window look up to 2 s
# longer than a minute: the limiter may hold a request that much past `max_retry_after`.
_RESET_SLACK = 2.0


@dataclass
class Failed:
    """An attempt that did not succeed: the failure as :func:`decide` sees it, the reply when
    there was one, and a scrubbed description of a transport error."""

    failure: Failure
    response: httpx.Response | None = None
    detail: str = ""


async def retrying(
    attempt: Callable[[float], Awaitable[T | Failed]],
    policy: RetryPolicy,
    rng: random.Random,
    *,
    on_pause: Callable[[Failure, Decision], Awaitable[None]] | None = None,
    reconcile: Callable[[Decision], Awaitable[T | None]] | None = None,
) -> T | Failed:
    """Call ``attempt`` until it succeeds or :func:`decide` gives up (then its ``Failed``).

    ``attempt`` gets how long the limiter may hold it: the ``Retry-After`` cap, and no more than
    what is left of the call's retry budget (time held counts against the budget like any
    other wait). ``on_pause`` hears of each backoff before it is slept.

    With ``reconcile``, an attempt can create something (a submit): a failure that may have
    created it is neither resent nor given up on before ``reconcile`` looked. ``reconcile``
    returns what the attempt created, None when nothing was, or raises.
    """
    start = time.monotonic()
    count = 0
    while True:
        count += 1
        left = policy.budget - (time.monotonic() - start)
        outcome = await attempt(max(0.0, min(policy.max_retry_after + _RESET_SLACK, left)))
        if not isinstance(outcome, Failed):
            return outcome
        failure = outcome.failure
        decision = decide(
            policy,
            failure,
            attempt=count,
            elapsed=time.monotonic() - start,
            creates=reconcile is not None,
            rng=rng,
        )
        if decision.action is Action.RAISE:
            if reconcile is not None and may_have_created(failure):
                found = await reconcile(decision)
                if found is not None:
                    return found
            return outcome
        if on_pause is not None:
            await on_pause(failure, decision)
        await asyncio.sleep(decision.delay)
        if decision.action is Action.RECONCILE:
            assert reconcile is not None  # decide() reconciles creating requests only
            found = await reconcile(decision)
            if found is not None:
                return found
            # Nothing was created (or the server dedupes the key): the next attempt resends.


def _transport_failure(exc: httpx.TransportError, backend: Backend) -> Failed:
    """A transport error, classified; only a scrubbed description is kept: the exception holds
    the request and its headers."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        kind = Kind.NOT_SENT
    elif isinstance(exc, httpx.TimeoutException):
        kind = Kind.TIMEOUT
    else:
        kind = Kind.LOST
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return Failed(Failure(kind), None, scrub(detail, backend.key))


class Transport:
    """The connection to one API server, shared by everything a client does."""

    def __init__(
        self,
        backend: Backend,
        http: httpx.AsyncClient,
        *,
        policy: RetryPolicy,
        limiter: Limiter,
        rng: random.Random,
        on_notice: NoticeCallback | None,
    ) -> None:
        self.backend = backend
        self.policy = policy
        self.limiter = limiter
        self.rng = rng
        self._http = http
        self._on_notice = on_notice

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        limited: bool = True,
        priority: Priority = Priority.WORK,
        timeout: float | None = None,
        max_wait: float | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> httpx.Response | Failed:
        """One HTTP exchange with the API, through the limiter; never raises transport errors.

        ``max_wait``: how long the limiter may hold the request (a longer known pause raises
        ``RateLimitError`` at once; default: the retry policy's ``max_retry_after``).
        ``limited=False`` bypasses the limiter (a cancel after Ctrl-C); ``priority`` is its place
        in the limiter's line when the budget is short. ``on_sent`` is called once the request
        is about to go out.
        """
        # httpx.Headers masks Authorization in its repr (a plain dict local would show the key
        # in tracebacks that print locals).
        all_headers = httpx.Headers(headers)
        secret = self.backend.key
        if secret:
            all_headers["Authorization"] = f"Bearer {secret.reveal()}"
        ticket = None
        if limited:
            if max_wait is None:
                max_wait = self.policy.max_retry_after
            try:
                ticket = await self.limiter.acquire(
                    priority=priority, max_wait=max(0.0, max_wait), on_pause=self.rate_limit_pause
                )
            except Throttled as exc:
                raise throttled(exc) from None
        if on_sent is not None:
            on_sent()
        response: httpx.Response | None = None
        try:
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            response = await self._http.request(
                method,
                self.backend.base_url + path,
                json=json,
                params=params,
                headers=all_headers,
                **extra,
            )
        except httpx.TransportError as exc:
            return _transport_failure(exc, self.backend)
        finally:
            if ticket is not None:
                if response is None:
                    self.limiter.release(ticket, status=None)
                else:
                    self.limiter.release(
                        ticket,
                        status=response.status_code,
                        retry_after=parse_retry_after(response.headers, now=time.time()),
                        headers=response.headers,
                    )
        if response.status_code < 400:
            return response
        failure = Failure(
            Kind.RESPONSE,
            status=response.status_code,
            code=error_code(response),
            retry_after=parse_retry_after(response.headers, now=time.time()),
        )
        return Failed(failure, response)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        priority: Priority = Priority.WORK,
        limited: bool = True,
    ) -> httpx.Response:
        """A request that creates nothing (reads, cancel), retried; raises the reply's error.
        ``limited=False``: each attempt goes without waiting for the limiter (see :meth:`send`)."""

        async def attempt(max_wait: float) -> httpx.Response | Failed:
            return await self.send(
                method, path, params=params, priority=priority, max_wait=max_wait, limited=limited
            )

        async def pause(failure: Failure, decision: Decision) -> None:
            log.info(
                "naive-nb: %s %s: %s; retrying in %.2f s",
                method,
                path,
                decision.reason,
                decision.delay,
            )
            await self.retry_pause(failure, decision)

        outcome = await retrying(attempt, self.policy, self.rng, on_pause=pause)
        if isinstance(outcome, Failed):
            raise self.error(outcome, f"{method} {path}") from None
        return outcome

    async def fetch(self, url: str) -> tuple[bytes, str | None] | Failed:
        """Stream one file (body, declared content type). No Authorization header: result URLs
        are pre-signed and may live on another host, which must never see the key."""
        try:
            async with self._http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code < 400:
                    chunks = [chunk async for chunk in response.aiter_bytes()]
                    return b"".join(chunks), response.headers.get("content-type")
                return Failed(
                    Failure(
                        Kind.RESPONSE,
                        status=response.status_code,
                        retry_after=parse_retry_after(response.headers, now=time.time()),
                    )
                )
        except httpx.TransportError as exc:
            return _transport_failure(exc, self.backend)

    def error(self, failed: Failed, what: str, **extra: Any) -> NaiveError:
        return error_for(failed, what, self.backend, **extra)

    async def notify(
        self, kind: str, seconds: float, message: str, job_id: str | None = None
    ) -> None:
        await notify(Notice(kind, seconds, message, job_id), self._on_notice)

    async def rate_limit_pause(self, seconds: float) -> None:
        await self.notify("rate_limited", seconds, f"rate limited, resuming in {seconds:.0f} s")

    async def retry_pause(self, failure: Failure, decision: Decision) -> None:
        """Say why a call waits before its next attempt (a short backoff is not worth a line)."""
        if decision.delay < NOTICE_MIN:
            return
        if failure.status == 429:
            await self.rate_limit_pause(decision.delay)
        else:
            reason, delay = decision.reason, decision.delay
            await self.notify("retrying", delay, f"{reason}, retrying in {delay:.0f} s")
