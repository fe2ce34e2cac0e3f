"""``AsyncClient``: the engine. The sync ``Client`` runs this same code on naive-nb's loop thread.

Every request goes through one path (:meth:`AsyncClient._attempt`): the client-wide limiter, the
sans-IO retry decision, error mapping from the envelope, and key scrubbing. Submits add an
idempotency key and reconciliation against ``GET /v1/jobs``; waits follow a ``PollSchedule``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import inspect
import logging
import random
import statistics
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import httpx

from naive_nb._version import __version__
from naive_nb.client._backend import Backend, auth_advice, resolve_backend
from naive_nb.client._limiter import NOTICE_MIN, Limiter, Throttled
from naive_nb.client._polling import PollSchedule
from naive_nb.client._retry import (
    Action,
    Failure,
    Kind,
    RetryPolicy,
    decide,
    may_have_created,
    parse_retry_after,
)
from naive_nb.client._types import (
    GeneratedImage,
    Job,
    ModelInfo,
    Notice,
    Price,
    Result,
    as_dict,
    as_list,
)
from naive_nb.client._validation import (
    image_dimensions,
    validate_input,
    validate_model,
    validate_values,
)
from naive_nb.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BillingBlockedError,
    ConflictError,
    InsufficientCreditsError,
    Interrupted,
    InvalidModelError,
    JobCancelled,
    JobFailed,
    JobResultMissing,
    NaiveError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    SubmissionOutcomeUnknown,
    ValidationError,
    WaitTimeout,
)

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_WAIT_TIMEOUT",
    "AsyncClient",
    "JobCallback",
    "NoticeCallback",
    "observed",
]

log = logging.getLogger("naive_nb.client")

DEFAULT_MODEL = "fal-ai/flux/schnell"
DEFAULT_WAIT_TIMEOUT = 600.0
JOB_STATUSES = ("queued", "processing", "completed", "failed", "cancelled")
#: A callback receiving a Job; it may be a plain function or return an awaitable.
JobCallback = Callable[[Job], Awaitable[object] | object]
#: A callback receiving a Notice (why a call pauses); a plain function or returning an awaitable.
NoticeCallback = Callable[[Notice], Awaitable[object] | object]
ScheduleFactory = Callable[[float | None, float], PollSchedule]
T = TypeVar("T")

# The per-call notice callback (set by submit/wait/generate's `on_notice`, and by the sync client
# around every call); a context variable, so every request a call makes, however deep, finds it.
_NOTICE: contextvars.ContextVar[NoticeCallback | None] = contextvars.ContextVar(
    "naive_nb_notice", default=None
)

# An interrupted submit first lets a POST already on the wire answer (its 202 names the job for
# sure), then reads the job list once: each step bounded, so Ctrl-C is answered in ~1-2 s.
_INTERRUPT_POST_GRACE = 1.0
_INTERRUPT_LOOKUP = 0.9
_RESET_SLACK = 2.0

# How far back (seconds) a reconciliation looks for a job a lost submit may have created; wide
# enough to absorb clock skew between us and the server.
_RECONCILE_SKEW = 30.0
_RULE_OUT_LOOKS = 10  # candidate details fetched per reconciliation, at most
_SEED_RANGE = 2**31  # seeds we pick fit every provider's integer type

_BY_CODE: dict[str, type[APIError]] = {
    "invalid_input": ValidationError,
    "invalid_model": InvalidModelError,
    "unauthorized": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "billing_blocked": BillingBlockedError,
    "forbidden": PermissionDeniedError,
    "resource_not_found": NotFoundError,
    "duplicate_request": ConflictError,
    "conflict": ConflictError,
    "rate_limited": RateLimitError,
    "provider_error": ProviderError,
    "internal_error": ServerError,
}
_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


async def observed(coro: Awaitable[T], on_notice: NoticeCallback | None) -> T:
    """Await ``coro`` with ``on_notice`` hearing of its pauses (used by the sync client)."""
    token = _NOTICE.set(on_notice) if on_notice is not None else None
    try:
        return await coro
    finally:
        if token is not None:
            _NOTICE.reset(token)


@dataclass
class _SubmitState:
    """How far an interrupted submit got: whether a POST went out, the job once known."""

    key: str
    sent: bool = False
    job: Job | None = None
    pending: asyncio.Future[_Attempt] | None = None


@dataclass
class _Attempt:
    response: httpx.Response | None
    failure: Failure | None
    detail: str = ""  # a scrubbed description of a transport error


def _classify(exc: httpx.TransportError) -> Kind:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Kind.NOT_SENT
    if isinstance(exc, httpx.TimeoutException):
        return Kind.TIMEOUT
    return Kind.LOST


async def _call_back(callback: JobCallback | None, job: Job) -> None:
    if callback is None:
        return
    outcome = callback(job)
    if inspect.isawaitable(outcome):
        await outcome


class AsyncClient:
    """Asynchronous client of the Naive images API (see ``docs/client.md``).

    ``api_key`` / ``base_url`` default to ``NAIVE_API_KEY`` / ``NAIVE_BASE_URL``; with no key at all
    the embedded local preview server is started and used. ``on_submitted`` is called with each new
    job as soon as its id is known (before any polling), ``on_update`` with the job after each poll,
    ``on_notice`` with a :class:`Notice` when a call pauses for a while (rate limited, retrying).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_jobs_in_flight: int = 8,
        validate: bool = True,
        on_submitted: JobCallback | None = None,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        poll_schedule: ScheduleFactory | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._backend: Backend = resolve_backend(api_key, base_url)
        self._secret = self._backend.key  # kept wrapped: no repr or traceback local shows it
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            headers={"User-Agent": f"naive-nb/{__version__}"},
        )
        self._retry = retry or RetryPolicy()
        self._limiter = Limiter(max_jobs_in_flight=max_jobs_in_flight)
        self._validate = validate
        self._on_submitted = on_submitted
        self._on_update = on_update
        self._on_notice = on_notice
        self._schedule_factory = poll_schedule
        self._rng = rng or random.Random()
        self._catalog: list[ModelInfo] | None = None
        # Jobs this client has handed out: a reconciliation can rule them out as someone's lost job.
        self._known: deque[str] = deque(maxlen=20_000)
        self._known_set: set[str] = set()
        self._server_keeps_keys = False
        # per model: how long jobs really ran, as a fraction of their estimate (recent ones)
        self._pace: dict[str, deque[float]] = {}

    # ------------------------------------------------------------------ plumbing
    @property
    def base_url(self) -> str:
        return self._backend.base_url

    @property
    def backend(self) -> str:
        """``"hosted"``, ``"custom"`` (another address) or ``"local preview engine"``."""
        return self._backend.label

    def __repr__(self) -> str:
        key = "set" if self._backend.key else "not set"
        name = type(self).__name__
        return f"{name}(base_url={self.base_url!r}, backend={self.backend!r}, api_key={key})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _scrub(self, text: str) -> str:
        key = self._secret.reveal() if self._secret else None
        if key and key in text:
            text = text.replace(key, "***")
        return text

    def _scrub_all(self, value: Any) -> Any:
        """``_scrub`` through nested JSON (an error body kept on an exception)."""
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, dict):
            return {k: self._scrub_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_all(v) for v in value]
        return value

    def _remember(self, job_id: str) -> None:
        if job_id in self._known_set:
            return
        if len(self._known) == self._known.maxlen:
            self._known_set.discard(self._known[0])
        self._known.append(job_id)
        self._known_set.add(job_id)

    async def _notify(
        self, kind: str, seconds: float, message: str, job_id: str | None = None
    ) -> None:
        callback = _NOTICE.get() or self._on_notice
        if callback is None:
            return
        outcome = callback(Notice(kind, seconds, message, job_id))
        if inspect.isawaitable(outcome):
            await outcome

    async def _rate_limit_pause(self, seconds: float) -> None:
        await self._notify("rate_limited", seconds, f"rate limited, resuming in {seconds:.0f} s")

    def _throttled(self, exc: Throttled) -> RateLimitError:
        """A pause the limiter will not wait out, as the error the call raises (nothing sent)."""
        if exc.wait is None:
            return RateLimitError(
                f"The API is rate limiting this key, and the request that tests whether it "
                f"lets requests through again did not come back within {exc.allowed:.0f} s; "
                "nothing was sent"
            )
        wait = max(1.0, float(round(exc.wait)))
        at = datetime.now(timezone.utc) + timedelta(seconds=exc.wait)
        return RateLimitError(
            f"The API's rate limit for this key lets no request through until {at:%H:%M:%S} UTC "
            f"(in {wait:.0f} s), longer than this call may wait ({exc.allowed:.0f} s); nothing "
            "was sent",
            retry_after=wait,
        )

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        limited: bool = True,
        timeout: float | None = None,
        max_wait: float | None = None,
        state: _SubmitState | None = None,
    ) -> _Attempt:
        """One HTTP exchange with the API, through the limiter; never raises transport errors.

        ``max_wait``: how long the limiter may hold the request (a longer known pause raises
        ``RateLimitError`` at once; default: the retry policy's ``max_retry_after``). ``state``
        records that a submit's POST went out.
        """
        # httpx.Headers masks Authorization in its repr (a plain dict local would show the key
        # in tracebacks that print locals).
        all_headers = httpx.Headers(headers)
        if self._secret:
            all_headers["Authorization"] = f"Bearer {self._secret.reveal()}"
        ticket = None
        if limited:
            if max_wait is None:
                max_wait = self._retry.max_retry_after
            try:
                ticket = await self._limiter.acquire(
                    max_wait=max(0.0, max_wait), on_pause=self._rate_limit_pause
                )
            except Throttled as exc:
                raise self._throttled(exc) from None
        if state is not None:
            state.sent = True
        response: httpx.Response | None = None
        try:
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            response = await self._http.request(
                method, self.base_url + path, json=json, params=params, headers=all_headers, **extra
            )
        except httpx.TransportError as exc:
            # Keep a scrubbed description only: the exception holds the request and its headers.
            detail = self._scrub(f"{type(exc).__name__}: {exc}".rstrip(": "))
            return _Attempt(None, Failure(_classify(exc)), detail)
        finally:
            if ticket is not None:
                if response is None:
                    self._limiter.release(ticket, status=None)
                else:
                    self._limiter.release(
                        ticket,
                        status=response.status_code,
                        retry_after=parse_retry_after(response.headers, now=time.time()),
                        headers=response.headers,
                    )
        if response.status_code < 400:
            return _Attempt(response, None)
        code = _envelope(response).get("code")
        failure = Failure(
            Kind.RESPONSE,
            status=response.status_code,
            code=code if isinstance(code, str) else None,
            retry_after=parse_retry_after(response.headers, now=time.time()),
        )
        return _Attempt(response, failure)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """A request that creates nothing (reads, cancel): retried per the shared policy.

        Time held by the rate limiter counts against the policy's budget like any other wait.
        """
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(
                method, path, params=params, max_wait=self._wait_allowance(start)
            )
            if outcome.failure is None and outcome.response is not None:
                return outcome.response
            assert outcome.failure is not None
            decision = decide(
                self._retry,
                outcome.failure,
                attempt=attempt,
                elapsed=time.monotonic() - start,
                creates=False,
                rng=self._rng,
            )
            if decision.action is Action.RAISE:
                raise self._error(outcome, f"{method} {path}") from None
            log.info(
                "naive-nb: %s %s: %s; retrying in %.2f s",
                method,
                path,
                decision.reason,
                decision.delay,
            )
            await self._retry_pause(outcome.failure, decision.delay, decision.reason)
            await asyncio.sleep(decision.delay)

    def _wait_allowance(self, start: float) -> float:
        """How long the limiter may hold this call's next request: the ``Retry-After`` cap, and
        no more than what is left of the call's retry budget.

        The cap gets ``_RESET_SLACK``: a reset and a ``Date`` in whole seconds make a fresh
        one-minute window look up to 2 s longer than a minute."""
        left = self._retry.budget - (time.monotonic() - start)
        return max(0.0, min(self._retry.max_retry_after + _RESET_SLACK, left))

    async def _retry_pause(self, failure: Failure, delay: float, reason: str) -> None:
        if delay < NOTICE_MIN:
            return  # a short backoff is not worth a line
        if failure.status == 429:
            await self._rate_limit_pause(delay)
        else:
            await self._notify("retrying", delay, f"{reason}, retrying in {delay:.0f} s")

    def _error(self, outcome: _Attempt, what: str, **extra: Any) -> NaiveError:
        response, failure = outcome.response, outcome.failure
        if response is None:
            detail = outcome.detail or "no reply"
            if failure is not None and failure.kind is Kind.TIMEOUT:
                return APITimeoutError(f"{what} timed out ({detail})")
            return APIConnectionError(f"{what}: no reply from {self.base_url} ({detail})")
        envelope = _envelope(response)
        status = response.status_code
        code = envelope.get("code") if isinstance(envelope.get("code"), str) else None
        cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
        if cls is None:
            cls = ServerError if status >= 500 else APIError
        message = envelope.get("message")
        if not isinstance(message, str) or not message:
            message = f"{what} answered HTTP {status}"
        hint = envelope.get("hint") if isinstance(envelope.get("hint"), str) else None
        reason = envelope.get("reason") if isinstance(envelope.get("reason"), str) else None
        kwargs: dict[str, Any] = {
            "status": status,
            "code": code,
            "hint": self._scrub(hint) if hint else None,
            "reason": self._scrub(reason) if reason else None,
            "body": self._scrub_all(envelope),
            **extra,
        }
        if cls is RateLimitError:
            kwargs["retry_after"] = failure.retry_after if failure else None
        if cls is AuthenticationError:
            kwargs["advice"] = auth_advice(self._backend)
        return cls(self._scrub(message), **kwargs)

    # ------------------------------------------------------------------ reads
    async def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """The model catalog (cached per client; ``refresh=True`` fetches it again)."""
        if self._catalog is None or refresh:
            data = (await self._request("GET", "/v1/images/models")).json()
            self._catalog = [ModelInfo.from_api(m) for m in data.get("models", [])]
        return list(self._catalog)

    async def get(self, job_id: str) -> Job:
        job, _ = await self._get(job_id)
        return job

    async def _get(self, job_id: str) -> tuple[Job, float | None]:
        response = await self._request("GET", f"/v1/jobs/{_check_id(job_id)}")
        return Job.from_api(response.json()), parse_retry_after(response.headers, now=time.time())

    async def jobs(self, status: str | None = None, limit: int = 20) -> list[Job]:
        """Recent jobs, newest first (``limit`` 1-100)."""
        if status is not None and status not in JOB_STATUSES:
            raise ValidationError(
                f"status must be one of {', '.join(JOB_STATUSES)}, got {status!r}",
                field="status",
                allowed=list(JOB_STATUSES),
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ValidationError(
                f"limit must be an integer from 1 to 100, got {limit!r}", field="limit"
            )
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        data = (await self._request("GET", "/v1/jobs", params=params)).json()
        return [Job.from_api(item, partial=True) for item in data.get("jobs", [])]

    async def pricing(self, model: str = DEFAULT_MODEL, num_images: int = 1) -> Price:
        if (
            isinstance(num_images, bool)
            or not isinstance(num_images, int)
            or not 1 <= num_images <= 4
        ):
            raise ValidationError(
                f"num_images must be an integer from 1 to 4, got {num_images!r}", field="num_images"
            )
        if self._validate:
            validate_model(model, await self.models())
        params = {"model": model, "num_images": num_images}
        data = (await self._request("GET", "/v1/images/pricing", params=params)).json()
        return Price.from_api(data, num_images)

    async def status(self) -> dict[str, Any]:
        """Account status: ``{"agent", "company", "credits": {"balance", "tier", ...}}``."""
        data: dict[str, Any] = (await self._request("GET", "/v1/status")).json()
        return data

    async def usage(self, days: int = 30, limit: int = 50) -> dict[str, Any]:
        """Credit balance and recent transactions."""
        params = {"days": days, "limit": limit}
        data: dict[str, Any] = (await self._request("GET", "/v1/usage", params=params)).json()
        return data

    # ------------------------------------------------------------------ cancel
    async def cancel(self, job_id: str) -> Job:
        """Cancel a queued or processing job. A job that already finished is returned as it is."""
        try:
            response = await self._request("DELETE", f"/v1/jobs/{_check_id(job_id)}")
        except ConflictError:
            return await self.get(job_id)  # it finished first: report how it ended
        return Job.from_api(response.json())

    # ------------------------------------------------------------------ submit
    async def submit(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        on_submitted: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Job:
        """Create a job; returns at once with its id (status ``queued``).

        One idempotency key is sent per call (generated unless given), the same on every retry.
        A submit is resent only when nothing can have been created, or after the job list showed
        that nothing was; if that cannot be settled, :class:`SubmissionOutcomeUnknown` is raised.

        Interrupted (``KeyboardInterrupt`` or task cancellation) once a POST went out, it finds
        out within about two seconds whether a job was created (the POST's own reply, else the
        job list by idempotency key), cancels it, and re-raises saying what became of it.
        """
        return await observed(self._submit(model, input, idempotency_key, on_submitted), on_notice)

    async def _submit(
        self,
        model: str,
        input: Mapping[str, Any],
        idempotency_key: str | None,
        on_submitted: JobCallback | None,
    ) -> Job:
        data = dict(input)
        state = _SubmitState(idempotency_key or f"nvnb-{uuid.uuid4()}")
        try:
            if self._validate:
                validate_values(model, data)  # bad values are refused before any request
                validate_input(validate_model(model, await self.models()), data)
            return await self._create(model, data, state, on_submitted)
        except (asyncio.CancelledError, KeyboardInterrupt) as exc:
            report = await self._after_interrupted_submit(state, model)
            if isinstance(exc, KeyboardInterrupt):
                raise report from None
            raise asyncio.CancelledError(report) from None  # the sync client re-raises the report

    async def _create(
        self,
        model: str,
        data: dict[str, Any],
        state: _SubmitState,
        on_submitted: JobCallback | None,
    ) -> Job:
        key = state.key
        body = {"model": model, "input": data}
        started_wall = time.time()
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            # Shielded: an interrupt must not tear down a POST the server may be acting on; the
            # interrupt handler gives it a moment to answer (its 202 names the job for sure).
            state.pending = asyncio.ensure_future(
                self._attempt(
                    "POST",
                    "/v1/images/generate",
                    json=body,
                    headers={"Idempotency-Key": key},
                    max_wait=self._wait_allowance(start),
                    state=state,
                )
            )
            outcome = await asyncio.shield(state.pending)
            state.pending = None
            if outcome.failure is None and outcome.response is not None:
                job = Job.from_api(outcome.response.json())
                state.job = job
                return await self._accepted(job, on_submitted, accepted_at=time.monotonic())
            failure = outcome.failure
            assert failure is not None
            decision = decide(
                self._retry,
                failure,
                attempt=attempt,
                elapsed=time.monotonic() - start,
                creates=True,
                rng=self._rng,
            )
            if decision.action is Action.RAISE:
                if may_have_created(failure):
                    found, candidates = await self._reconcile(model, data, key, started_wall)
                    if found is not None:
                        state.job = found
                        return await self._accepted(found, on_submitted)
                    if candidates:
                        raise SubmissionOutcomeUnknown(key, candidates, decision.reason) from None
                raise await self._submit_error(outcome, model, data) from None
            await self._retry_pause(failure, decision.delay, decision.reason)
            await asyncio.sleep(decision.delay)
            if decision.action is Action.RECONCILE:
                log.info(
                    "naive-nb: submit %s got %s; checking the job list before resending",
                    key,
                    decision.reason,
                )
                found, candidates = await self._reconcile(model, data, key, started_wall)
                if found is not None:
                    state.job = found
                    return await self._accepted(found, on_submitted)
                if candidates:
                    raise SubmissionOutcomeUnknown(key, candidates, decision.reason) from None
                # Nothing of ours was created (or the server dedupes our key): resend, same key.

    async def _accepted(
        self, job: Job, on_submitted: JobCallback | None, *, accepted_at: float | None = None
    ) -> Job:
        if accepted_at is not None:
            job = dataclasses.replace(job, accepted_at=accepted_at)
        self._remember(job.id)
        await _call_back(on_submitted or self._on_submitted, job)
        return job

    async def _after_interrupted_submit(self, state: _SubmitState, model: str) -> Interrupted:
        """An interrupted submit: find out (briefly) whether it created a job, cancel that job,
        and say what became of it. Never raises; each step is bounded."""
        key = state.key
        pending, state.pending = state.pending, None
        if pending is not None:
            if not pending.done():
                try:
                    await asyncio.wait({pending}, timeout=_INTERRUPT_POST_GRACE)
                finally:  # a second interrupt ends the wait: hang up then too
                    if not pending.done():
                        pending.cancel()  # no answer in time: hang up, look in the job list
            if pending.done() and not pending.cancelled() and pending.exception() is None:
                outcome = pending.result()
                if outcome.failure is None and outcome.response is not None:
                    with contextlib.suppress(ValueError):
                        state.job = Job.from_api(outcome.response.json())
                        self._remember(state.job.id)
        if state.job is not None:
            return await self._cancel_after_interrupt(
                state.job, f"job {state.job.id} (created by the interrupted submit)"
            )
        if not state.sent:
            return Interrupted(
                "Interrupted before the submit was sent: no job was created.", outcome="not_sent"
            )
        found, candidates, problem = await self._look_up_key(key, model)
        if found is not None:
            return await self._cancel_after_interrupt(
                found, f"job {found.id} (created by the interrupted submit, key {key})"
            )
        if problem:
            return Interrupted(
                f"Interrupted while submitting: could not tell whether the server created a job "
                f"({problem}). Look for idempotency key {key} in client.jobs() and cancel that "
                f"job if it is there; a resubmit with idempotency_key={key!r} cannot create a "
                "second job on a server that honours keys.",
                outcome="unknown",
                idempotency_key=key,
            )
        if candidates:
            ids = ", ".join(job.id for job in candidates[:5])
            return Interrupted(
                "Interrupted while submitting: could not tell whether the server created a job "
                f"(it does not record idempotency keys; this submit's was {key}). Recent jobs "
                f"that could be it: {ids}; check them with client.get(id) and cancel yours.",
                outcome="unknown",
                idempotency_key=key,
                candidates=tuple(job.id for job in candidates),
            )
        return Interrupted(
            f"Interrupted while submitting: the job list shows no job for idempotency key {key}, "
            "so none was created (a request still on its way could yet create one: "
            "client.jobs() shows it if so).",
            outcome="not_created",
            idempotency_key=key,
        )

    async def _look_up_key(self, key: str, model: str) -> tuple[Job | None, list[Job], str]:
        """One bounded look at the job list for a job carrying ``key``, bypassing any rate-limit
        pause. Returns (the job, [], "") / (None, candidates, "") / (None, [], what failed)."""
        try:
            outcome = await asyncio.wait_for(
                self._attempt(
                    "GET",
                    "/v1/jobs",
                    params={"limit": 100},
                    limited=False,
                    timeout=_INTERRUPT_LOOKUP,
                ),
                _INTERRUPT_LOOKUP + 0.1,
            )
        except (asyncio.TimeoutError, asyncio.CancelledError):
            return None, [], f"the job list did not answer within {_INTERRUPT_LOOKUP:g} s"
        if outcome.failure is not None or outcome.response is None:
            detail = outcome.detail or f"HTTP {outcome.failure.status if outcome.failure else '?'}"
            return None, [], f"the job list could not be read: {detail}"
        try:
            jobs = outcome.response.json().get("jobs", [])
            items = [Job.from_api(item, partial=True) for item in jobs]
        except (ValueError, AttributeError):
            return None, [], "the job list could not be read"
        for job in items:
            if job.idempotency_key == key:
                return job, [], ""
        if any(job.idempotency_key for job in items) or self._server_keeps_keys:
            return None, [], ""
        recent = [
            job
            for job in items
            if job.model == model
            and job.status in ("queued", "processing")
            and job.id not in self._known_set
        ]
        return None, recent, ""

    async def _reconcile(
        self, model: str, data: dict[str, Any], key: str, started_wall: float
    ) -> tuple[Job | None, list[Job]]:
        """Look for the job a lost submit may have created.

        Returns (our job, []) when a job carries our idempotency key. Otherwise (None, candidates):
        recent jobs of the same model that carry no key and that this client has not handed out.
        An empty list means nothing of ours exists. Raises SubmissionOutcomeUnknown when the list
        cannot be read, or when the server does not record keys and the list cannot reach back to
        our submit.
        """
        limit = 100
        try:
            listing = await self._request("GET", "/v1/jobs", params={"limit": limit})
        except NaiveError as exc:
            raise SubmissionOutcomeUnknown(
                key, [], f"the job list could not be read: {exc.message}"
            ) from None
        items = [Job.from_api(item, partial=True) for item in listing.json().get("jobs", [])]
        since = started_wall - _RECONCILE_SKEW
        candidates: list[Job] = []
        for job in items:
            if job.idempotency_key is not None:
                self._server_keeps_keys = True
                if job.idempotency_key == key:
                    log.info("naive-nb: found job %s for submit %s; not resending", job.id, key)
                    return job, []
                continue  # someone else's logical submit
            created = job.created_at.timestamp() if job.created_at else None
            recent = created is None or created >= since
            if job.model == model and recent and job.id not in self._known_set:
                candidates.append(job)
        if candidates:
            candidates = await self._rule_out(candidates, data)
        oldest = items[-1].created_at if items else None
        covered = len(items) < limit or (oldest is not None and oldest.timestamp() < since)
        if not candidates and not covered and not self._server_keeps_keys:
            # Our job could sit beyond the newest 100 and nothing would dedupe a resend.
            raise SubmissionOutcomeUnknown(
                key, [], "the job list does not reach back to this submit"
            )
        return None, candidates

    async def _rule_out(self, candidates: list[Job], data: dict[str, Any]) -> list[Job]:
        """Drop candidates whose result shows another request (a different prompt or seed).

        Only a finished job reports them; the rest stay candidates. A few looks at most.
        """
        kept: list[Job] = []
        for index, job in enumerate(candidates):
            if index >= _RULE_OUT_LOOKS:
                kept.extend(candidates[index:])
                break
            try:
                detail = await self.get(job.id)
            except NaiveError:
                kept.append(job)
                continue
            result = detail.result or {}
            prompt, seed = result.get("prompt"), result.get("seed")
            other_prompt = isinstance(prompt, str) and prompt != data.get("prompt")
            other_seed = isinstance(seed, int) and "seed" in data and seed != data["seed"]
            if not (other_prompt or other_seed):
                kept.append(detail)
        return kept

    async def _submit_error(
        self, outcome: _Attempt, model: str, data: dict[str, Any]
    ) -> NaiveError:
        failure = outcome.failure
        if failure is not None and failure.code == "insufficient_credits":
            price: Price | None = None
            try:
                num = data.get("num_images", 1)
                price = await self.pricing(model, num if isinstance(num, int) else 1)
            except NaiveError:
                price = None  # the price is a courtesy; the 402 is the news
            return self._error(outcome, "submit", price=price)
        return self._error(outcome, "submit")

    # ------------------------------------------------------------------ wait
    def _schedule(self, job: Job, start: float) -> PollSchedule:
        if self._schedule_factory is not None:
            return self._schedule_factory(job.estimated_seconds, start)
        estimate = job.estimated_seconds
        ratios = self._pace.get(job.model or "")
        if estimate and ratios and len(ratios) >= 3:
            # The server's estimates may be off for this model (pessimistic, or a local server
            # running faster than real time): scale by how long its jobs really ran.
            estimate *= min(20.0, max(0.05, statistics.median(ratios)))
        return PollSchedule(estimate, start=start, rng=self._rng)

    def _learn_pace(self, job: Job) -> None:
        if job.status != "completed" or not job.estimated_seconds or not job.model:
            return
        if job.started_at is None or job.completed_at is None:
            return
        ran = (job.completed_at - job.started_at).total_seconds()
        if ran > 0:
            ratios = self._pace.setdefault(job.model, deque(maxlen=20))
            ratios.append(ran / job.estimated_seconds)

    async def wait(
        self,
        job: str | Job,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Job:
        """Poll until the job is completed and return it.

        Raises :class:`JobFailed`, :class:`JobCancelled`, or :class:`WaitTimeout` (the job keeps
        running). Polls are paced by the job's ``estimated_seconds`` (see ``PollSchedule``).
        Given the ``Job`` that ``submit`` returned, the first look is paced from the submit
        (no look at once; a job submitted long enough ago is looked at right away); given an id,
        the job is looked at once, then paced by its age. A finished job is returned only as its
        full record says: given a job-list item (``Job.partial``) or a completed job naming no
        images, its record is fetched first.
        """
        return await observed(self._wait(job, timeout, on_update), on_notice)

    async def _wait(
        self, job: str | Job, timeout: float | None, on_update: JobCallback | None
    ) -> Job:
        callback = on_update or self._on_update
        limit = DEFAULT_WAIT_TIMEOUT if timeout is None else timeout
        now = time.monotonic()
        deadline = now + limit
        # `origin`: when the job was created, on our clock. Known when this client submitted it
        # (`accepted_at`; server timestamps are then only compared with each other: no clock
        # skew); else estimated from the wall clock.
        origin: float | None
        if isinstance(job, Job) and job.done and job.needs_full_record:
            # A list item (a job found by reconciliation, say) has no media, result or error:
            # it must not be returned as finished. Its full record is read at once.
            job = job.id
        if isinstance(job, Job):
            current = job
            origin = job.accepted_at if job.accepted_at is not None else _origin(job, now)
            schedule = self._schedule(job, now if origin is None else origin)
        else:
            current, retry_after = await self._get(job)
            await _call_back(callback, current)
            origin = _origin(current, now)
            schedule = self._schedule(current, now if origin is None else origin)
            schedule.observe(
                now=time.monotonic(),
                status=current.status,
                retry_after=retry_after,
                progress=current.progress,
                running_since=_running_since(current, origin),
            )
        while not current.done:
            now = time.monotonic()
            if now >= deadline:
                raise WaitTimeout(current.id, current.status, limit, job=current)
            delay = schedule.delay(now)
            pause = self._limiter.pause_left()
            if pause is not None and pause > delay:
                # The rate limit holds the next look longer than the schedule would: say why
                # the wait stalls, then sleep through the pause. It counts against the wait's
                # deadline (a pause past it ends in WaitTimeout: the job keeps running).
                if pause >= NOTICE_MIN:
                    await self._notify(
                        "rate_limited",
                        pause,
                        f"rate limited, resuming in {pause:.0f} s",
                        current.id,
                    )
                delay = pause
            await asyncio.sleep(min(delay, deadline - now))
            if time.monotonic() >= deadline and (self._limiter.pause_left() or 0.0) > 0:
                raise WaitTimeout(current.id, current.status, limit, job=current)
            current, retry_after = await self._get(current.id)
            schedule.observe(
                now=time.monotonic(),
                status=current.status,
                retry_after=retry_after,
                progress=current.progress,
                running_since=_running_since(current, origin),
            )
            await _call_back(callback, current)
        self._learn_pace(current)
        return _settled(current)

    # ------------------------------------------------------------------ generate
    async def generate(
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
        """Submit, wait, and download the images. An unseeded call gets a concrete seed first.

        On interruption (``KeyboardInterrupt`` or task cancellation) during the submit or the
        wait, the remote job is cancelled at once and the exception re-raised with what became
        of the job.
        """
        return await observed(
            self._generate(
                prompt,
                model=model,
                seed=seed,
                num_images=num_images,
                image_size=image_size,
                idempotency_key=idempotency_key,
                timeout=timeout,
                on_submitted=on_submitted,
                on_update=on_update,
                **params,
            ),
            on_notice,
        )

    async def _generate(
        self,
        prompt: str,
        *,
        model: str,
        seed: int | None,
        num_images: int,
        image_size: str | dict[str, int] | None,
        idempotency_key: str | None,
        timeout: float | None,
        on_submitted: JobCallback | None,
        on_update: JobCallback | None,
        **params: Any,
    ) -> Result:
        accepted: tuple[str, ...] | None = None
        if self._validate:
            # the caller's own values first: bad ones are refused before even the catalog is read
            given: dict[str, Any] = {"prompt": prompt, "num_images": num_images, **params}
            if seed is not None:
                given["seed"] = seed
            if image_size is not None:
                given["image_size"] = image_size
            validate_values(model, given)
            accepted = validate_model(model, await self.models()).key_params or None
        data: dict[str, Any] = {"prompt": prompt}
        if image_size is not None or accepted is None or "image_size" in accepted:
            data["image_size"] = image_size if image_size is not None else "square_hd"
        if num_images != 1 or accepted is None or "num_images" in accepted:
            data["num_images"] = num_images
        if seed is None and (accepted is None or "seed" in accepted):
            seed = self._rng.randrange(_SEED_RANGE)
        if seed is not None:
            data["seed"] = seed
        data.update(params)
        async with self._limiter.jobs:
            job = await self.submit(
                model, data, idempotency_key=idempotency_key, on_submitted=on_submitted
            )
            try:
                done = await self.wait(job, timeout=timeout, on_update=on_update)
            except (asyncio.CancelledError, KeyboardInterrupt) as exc:
                report = await self._cancel_after_interrupt(job)
                if isinstance(exc, KeyboardInterrupt):
                    raise report from None
                raise asyncio.CancelledError(report) from None
            images = await self._download(done, seed, data)
        return Result(job=done, images=images, model=model, input=data, seed=seed)

    async def download(self, job: str | Job) -> list[GeneratedImage]:
        """Fetch a completed job's images (streamed, retried, no key sent to the file host).

        Result URLs expire, so download soon after completion; ``generate`` does it for you.
        A job-list item or a record naming no images is fetched in full first; a completed job
        whose full record names no images raises :class:`JobResultMissing`.
        """
        if isinstance(job, Job) and job.done and not job.needs_full_record:
            current = job
        else:
            current = await self.get(_job_id(job))
        if not current.done:
            raise ConflictError(
                f"job {current.id} is still {current.status}",
                hint=f"Wait for it first: client.wait({current.id!r}).",
            )
        done = _settled(current)
        return list(await self._download(done, done.seed, {}))

    async def _cancel_after_interrupt(self, job: Job, what: str | None = None) -> Interrupted:
        """Send ``DELETE`` at once (bypassing any rate-limit pause) and say what happened."""
        what = what or f"job {job.id}"
        try:
            outcome = await asyncio.wait_for(
                self._attempt("DELETE", f"/v1/jobs/{job.id}", limited=False, timeout=0.9), 1.0
            )
        except (asyncio.TimeoutError, asyncio.CancelledError):
            outcome = _Attempt(None, Failure(Kind.TIMEOUT), "no answer within 1 s")
        if outcome.failure is None:
            return Interrupted(
                f"Interrupted: {what} was cancelled on the server. If it had already "
                "started, the provider may still finish it and it may still be charged; "
                f"client.get({job.id!r}) shows its final state.",
                outcome="cancelled",
                job_id=job.id,
            )
        if outcome.failure.status == 409:
            return Interrupted(
                f"Interrupted: {what} had already finished, so it was not cancelled; "
                f"collect it with client.get({job.id!r}).",
                outcome="already_finished",
                job_id=job.id,
            )
        detail = outcome.detail or f"HTTP {outcome.failure.status}"
        return Interrupted(
            f"Interrupted: cancelling {what} failed ({detail}); it may still run and be "
            f"charged. Retry client.cancel({job.id!r}).",
            outcome="cancel_failed",
            job_id=job.id,
        )

    async def _download(
        self, job: Job, seed: int | None, data: dict[str, Any]
    ) -> tuple[GeneratedImage, ...]:
        if not job.media_urls:
            # Never a result of no images: the job may be charged, so it is an error naming it.
            raise JobResultMissing(job.id, job=job)
        result = job.result or {}
        infos = as_list(result.get("images"))
        nsfw = as_list(result.get("has_nsfw_concepts"))
        batch_seed = job.seed if job.seed is not None else seed
        fallback = image_dimensions(data.get("image_size"))

        async def one(index: int, url: str) -> GeneratedImage:
            info = as_dict(infos[index]) if index < len(infos) else {}
            body, content_type = await self._fetch(url)
            width = info.get("width") if isinstance(info.get("width"), int) else None
            height = info.get("height") if isinstance(info.get("height"), int) else None
            if (width is None or height is None) and fallback:
                width, height = fallback
            return GeneratedImage(
                data=body,
                url=url,
                width=width,
                height=height,
                seed=batch_seed,
                content_type=info.get("content_type") or content_type,
                nsfw=bool(nsfw[index]) if index < len(nsfw) else False,
            )

        return tuple(await asyncio.gather(*(one(i, u) for i, u in enumerate(job.media_urls))))

    async def _fetch(self, url: str) -> tuple[bytes, str | None]:
        """Stream one result file, with retries. No Authorization header: URLs are pre-signed
        and may live on another host, which must never see the key."""
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            failure: Failure
            detail = ""
            try:
                async with self._http.stream("GET", url, follow_redirects=True) as response:
                    if response.status_code < 400:
                        chunks = [chunk async for chunk in response.aiter_bytes()]
                        return b"".join(chunks), response.headers.get("content-type")
                    failure = Failure(
                        Kind.RESPONSE,
                        status=response.status_code,
                        retry_after=parse_retry_after(response.headers, now=time.time()),
                    )
            except httpx.TransportError as exc:
                failure = Failure(_classify(exc))
                detail = self._scrub(f"{type(exc).__name__}: {exc}")
            decision = decide(
                self._retry,
                failure,
                attempt=attempt,
                elapsed=time.monotonic() - start,
                creates=False,
                rng=self._rng,
            )
            if decision.action is Action.RAISE:
                if failure.status == 404:
                    raise NotFoundError(
                        f"result file {url} is gone (result URLs expire)",
                        status=404,
                        hint="Fetch the job again with client.get(job_id) for fresh URLs.",
                    ) from None
                what = f"download of {url}"
                if failure.kind is Kind.RESPONSE:
                    raise ServerError(
                        f"{what} answered HTTP {failure.status}", status=failure.status
                    )
                raise APIConnectionError(f"{what} failed ({detail})") from None
            await asyncio.sleep(decision.delay)


def _envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        envelope: dict[str, Any] = dict(body["error"])
        for name in ("packs", "plans", "block_reason", "balance", "required_credits"):
            if name in body and name not in envelope:
                envelope[name] = body[name]
        return envelope
    return {}


def _job_id(job: str | Job) -> str:
    return job.id if isinstance(job, Job) else job


def _check_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not job_id or "/" in job_id or len(job_id) > 200:
        raise ValidationError(f"not a job id: {job_id!r}", field="job_id")
    return job_id


def _running_since(job: Job, origin: float | None) -> float | None:
    """When the job started running, on our monotonic clock (None when unknown)."""
    if origin is None or job.started_at is None or job.created_at is None:
        return None
    return origin + max(0.0, (job.started_at - job.created_at).total_seconds())


def _origin(job: Job, now: float) -> float | None:
    """When a job we did not submit was created, on our monotonic clock, from the wall clock.

    Only plausible ages are trusted (clock skew with a hosted server is usually small, and a bad
    guess costs a couple of polls at most: predictions are bounded).
    """
    if job.created_at is None:
        return None
    age = (datetime.now(timezone.utc) - job.created_at).total_seconds()
    if not 0 <= age < 86_400:
        return None
    return now - age


def _settled(job: Job) -> Job:
    if job.status == "completed":
        return job
    if job.status == "cancelled":
        raise JobCancelled(job.id, job=job)
    error = job.error or {}
    message = error.get("message") if isinstance(error.get("message"), str) else "no reason given"
    code = error.get("code") if isinstance(error.get("code"), str) else None
    raise JobFailed(job.id, str(message), code=code, job=job)
