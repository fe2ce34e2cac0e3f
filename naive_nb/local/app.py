"""The embedded server's ASGI application: every route of the Naive images API (part A of
`docs/api.md`) with the behaviour chosen in part B, plus `/files/...` for result images.

Request handling order, outermost first: the request log, the connection-drop layer (for the
"response lost" fault), then Starlette routing. Inside a /v1 route: injected latency, auth, rate
limit (every request counts, polling included), injected faults, then the route itself.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naive_nb.local import catalog
from naive_nb.local.catalog import MODELS, InputError, price_credits
from naive_nb.local.config import ServerConfig
from naive_nb.local.engine import JobEngine, concrete_seed, request_fingerprint
from naive_nb.local.files import FileStore
from naive_nb.local.state import IdempotencyStore, Job, RateLimiter, Tenant, new_id

log = logging.getLogger("naive_nb.local")

# the error codes of the contract, with the status each maps to
STATUS_OF = {
    "invalid_input": 400,
    "invalid_model": 400,
    "unauthorized": 401,
    "insufficient_credits": 402,
    "billing_blocked": 402,
    "forbidden": 403,
    "resource_not_found": 404,
    "duplicate_request": 409,
    "conflict": 409,
    "rate_limited": 429,
    "internal_error": 500,
    "provider_error": 502,
}
DROP_FLAG = "naive.drop_connection"


class ApiError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        hint: str = "",
        *,
        reason: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.reason = reason
        self.status = status or STATUS_OF[code]
        self.headers = headers or {}
        self.extra = extra or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.reason:
            body["reason"] = self.reason
        return JSONResponse({"error": body, **self.extra}, self.status, headers=self.headers)


@dataclass
class RequestRecord:
    """One served request, for tests that check what a client sent and when (never headers)."""

    time: float  # time.monotonic() when the request arrived
    method: str
    path: str
    status: int


class ServerState:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.tenants = {
            key: Tenant(f"t{i}", config.balance, config.tier)
            for i, key in enumerate(config.api_keys)
        }
        self.idempotency = IdempotencyStore()
        self.limiter = RateLimiter(config.rate_limit)
        self.files = FileStore(config.file_ttl)
        self.engine = JobEngine(config, self.files)
        self.request_log: list[RequestRecord] = []

    def tenant_for(self, request: Request) -> Tenant:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            for key, tenant in self.tenants.items():
                if hmac.compare_digest(key.encode(), token.strip().encode()):
                    return tenant
        raise ApiError(
            "unauthorized",
            "Missing or invalid API key." if header else "Missing API key.",
            "Send 'Authorization: Bearer <your key>'.",
        )

    @property
    def reports_progress(self) -> bool:
        """Whether job replies carry `progress` (read per reply: switchable while running)."""
        return not self.config.timing.omit_progress

    def all_jobs(self) -> list[Job]:
        return [job for tenant in self.tenants.values() for job in tenant.jobs.values()]


Handler = Callable[[Request, ServerState, Tenant], Awaitable[Response]]


def api_route(
    handler: Handler, *, image_route: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a /v1 handler with latency, auth, rate limit, faults and the error envelope."""

    async def endpoint(request: Request) -> Response:
        state: ServerState = request.app.state.naive
        faults = state.config.faults
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        headers: dict[str, str] = {}
        try:
            tenant = state.tenant_for(request)
            allowed, headers = state.limiter.hit(tenant.name, time.time())
            if not allowed:
                raise ApiError(
                    "rate_limited",
                    f"Rate limit of {state.config.rate_limit} requests per minute reached.",
                    "Wait for the number of seconds in Retry-After, then retry.",
                )
            if faults.take_burst():
                headers["X-RateLimit-Remaining"] = "0"
                headers["Retry-After"] = str(faults.burst_retry_after)
                raise ApiError(
                    "rate_limited",
                    "Too many requests.",
                    "Wait for the number of seconds in Retry-After, then retry.",
                )
            if faults.roll(faults.error_rate):
                extra_headers = {"Retry-After": "1"} if faults.error_status == 503 else {}
                raise ApiError(
                    "internal_error",
                    "Internal server error (injected).",
                    "Retry later.",
                    status=faults.error_status,
                    headers=extra_headers,
                )
            if image_route and faults.forbidden:
                raise ApiError(
                    "forbidden",
                    "Image generation is disabled for this key.",
                    "Enable images for this agent in the Naive dashboard.",
                )
            response = await handler(request, state, tenant)
        except ClientDisconnect:
            # the caller hung up mid-request (Ctrl-C in a notebook): nobody is left to answer,
            # and it is no server error worth a traceback in anyone's output
            return Response(status_code=499)
        except ApiError as error:
            error.headers = {**headers, **error.headers}
            return error.response()
        response.headers.update(headers)
        return response

    return endpoint


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            "invalid_input",
            f"The body is not valid JSON: {exc}.",
            'Send a JSON object: {"model": ..., "input": {"prompt": ...}}.',
            reason="body",
        ) from None


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            "invalid_input",
            f"{name} must be an integer from {low} to {high}.",
            f"Pass ?{name}=<{low}-{high}>.",
            reason=name,
        )
    return value


# --- routes -------------------------------------------------------------------------------------


async def generate(request: Request, state: ServerState, tenant: Tenant) -> Response:
    faults = state.config.faults
    body = await read_json(request)
    try:
        model, data = catalog.validate_generate(body)
    except InputError as exc:
        raise ApiError(
            exc.code,
            exc.message,
            "Check the parameters against /v1/images/models.",
            reason=exc.field,
        ) from None
    key = request.headers.get("idempotency-key") if faults.idempotency else None
    fingerprint = request_fingerprint(body)
    if key:
        stored = state.idempotency.get(tenant.name, key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ApiError(
                    "duplicate_request",
                    "This Idempotency-Key was already used for a different request.",
                    "Use a new key for each new request.",
                )
            return JSONResponse(stored.body, stored.status, headers={"Idempotent-Replayed": "true"})
    if faults.billing_blocked:
        raise ApiError(
            "billing_blocked",
            "Billing is blocked: the trial has expired.",
            "Choose a plan to continue.",
            extra={"block_reason": "trial_expired", "plans": ["pro", "business"]},
        )
    if faults.roll(faults.provider_reject_rate):
        raise ApiError(
            "provider_error",
            "The model provider rejected the request (injected).",
            "Check the parameters against /v1/images/models.",
        )
    num = int(data.get("num_images", 1))
    credits = price_credits(model, num)
    if tenant.balance < credits:
        overdraft = tenant.overdraft  # a negative balance comes with its reason
        balance = overdraft or f"the balance is {tenant.balance}"
        raise ApiError(
            "insufficient_credits",
            f"This request needs {credits} credits; {balance}.",
            "Buy credits: the balance must cover a request before it is accepted."
            if overdraft
            else "Buy credits or lower num_images.",
            extra={
                "required_credits": credits,
                "balance": tenant.balance,
                "packs": [{"credits": 100, "price_usd": 5.0}],
            },
        )

    job_id = new_id()
    estimate = state.engine.scaled_estimate(model.estimated_seconds)
    job_input = dict(data)
    job_input.setdefault("seed", concrete_seed(job_id))
    job = Job(
        id=job_id,
        tenant=tenant.name,
        model=model.id,
        input=job_input,
        estimated_seconds=estimate,
        estimated_credits=credits,
        duration=state.engine.duration_for(job_id, model.estimated_seconds),
        created_at=time.time(),
        queue_wait=state.engine.queue_wait_for(job_id),
        idempotency_key=key or None,
    )
    tenant.jobs[job_id] = job
    state.engine.start(tenant, job, str(request.base_url).rstrip("/"))
    reply = {
        "id": job_id,
        "job_id": job_id,
        "status": "queued",
        "type": "image_generation",
        "model": model.id,
        "estimated_seconds": estimate,
        "estimated_credits": credits,
        "hint": f"Poll GET /v1/jobs/{job_id} or GET /v1/images/{job_id}. "
        "Credits charged on completion only.",
    }
    if key:
        state.idempotency.put(tenant.name, key, fingerprint, 202, reply)
    # stored before a fault can lose it, as when a proxy fails after the origin answered
    if faults.roll(faults.drop_after_create_rate):
        request.scope[DROP_FLAG] = True
    elif faults.roll(faults.error_after_create_rate):
        raise ApiError(
            "internal_error",
            "Internal server error (injected after the job was created).",
            "Retry later.",
        )
    return JSONResponse(reply, 202)


async def list_models(request: Request, state: ServerState, tenant: Tenant) -> Response:
    return JSONResponse({"models": [m.describe() for m in MODELS.values()]})


async def pricing(request: Request, state: ServerState, tenant: Tenant) -> Response:
    try:
        model = catalog.resolve_model(
            {"model": request.query_params.get("model", catalog.DEFAULT_MODEL)}
        )
    except InputError as exc:
        raise ApiError(
            exc.code, exc.message, "See GET /v1/images/models.", reason="model"
        ) from None
    num = _int_param(request, "num_images", 1, 1, 4)
    return JSONResponse(
        {
            "model": model.id,
            "num_images": num,
            "estimated_credits": price_credits(model, num),
            "unit_price_usd": model.unit_price_usd,
            "credit_value_usd": catalog.CREDIT_VALUE_USD,
        }
    )


def _find_job(tenant: Tenant, job_id: str) -> Job:
    job = tenant.jobs.get(job_id)
    if job is None:  # also for another tenant's id: never confirm that it exists
        raise ApiError(
            "resource_not_found",
            f"No job with id {job_id!r}.",
            "Check the id; GET /v1/jobs lists your recent jobs.",
        )
    return job


async def get_job(request: Request, state: ServerState, tenant: Tenant) -> Response:
    job = _find_job(tenant, request.path_params["job_id"])
    return JSONResponse(job.detail(time.monotonic(), with_progress=state.reports_progress))


async def get_image_job(request: Request, state: ServerState, tenant: Tenant) -> Response:
    # every job here is an image job, so this is GET /v1/jobs/{id} under another name
    return await get_job(request, state, tenant)


async def list_jobs(request: Request, state: ServerState, tenant: Tenant) -> Response:
    status = request.query_params.get("status")
    allowed = ("queued", "processing", "completed", "failed", "cancelled")
    if status is not None and status not in allowed:
        raise ApiError(
            "invalid_input",
            f"status must be one of: {', '.join(allowed)}.",
            "Leave status out to list every job.",
            reason="status",
        )
    limit = _int_param(request, "limit", 20, 1, 100)
    jobs = sorted(tenant.jobs.values(), key=lambda j: j.created_at, reverse=True)
    if status is not None:
        jobs = [j for j in jobs if j.status == status]
    now = time.monotonic()
    progress = state.reports_progress
    return JSONResponse({"jobs": [j.summary(now, with_progress=progress) for j in jobs[:limit]]})


async def cancel_job(request: Request, state: ServerState, tenant: Tenant) -> Response:
    job = _find_job(tenant, request.path_params["job_id"])
    if job.finished:
        raise ApiError(
            "conflict",
            f"Job {job.id} already finished with status {job.status!r}.",
            "Nothing to cancel.",
            reason="job_finished",
        )
    state.engine.cancel(job)
    return JSONResponse({"id": job.id, "status": "cancelled", "credits_refunded": 0})


async def status(request: Request, state: ServerState, tenant: Tenant) -> Response:
    return JSONResponse(tenant.status())


async def usage(request: Request, state: ServerState, tenant: Tenant) -> Response:
    days = _int_param(request, "days", 30, 1, 365)
    limit = _int_param(request, "limit", 50, 1, 500)
    return JSONResponse(tenant.usage(days, limit))


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def serve_file(request: Request) -> Response:
    state: ServerState = request.app.state.naive
    stored = state.files.get(request.path_params["name"])
    if stored is None:
        return ApiError(
            "resource_not_found",
            "No such file, or it has expired.",
            "Result URLs expire: download images when the job completes.",
        ).response()
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


async def not_found(request: Request, exc: Exception) -> Response:
    return ApiError(
        "resource_not_found",
        f"No route {request.method} {request.url.path}.",
        "See the API reference for the routes.",
    ).response()


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return ApiError(
        "invalid_input",
        f"{request.method} is not allowed on {request.url.path}.",
        "See the API reference for the routes.",
        status=405,
    ).response()


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return ApiError("internal_error", "Internal server error.", "Retry later.").response()


# --- the outer ASGI layers ---------------------------------------------------------------------


class OuterLayer:
    """Records each request and performs the "connection dropped" fault.

    It sits outside Starlette so that it holds the server's own `send`: to lose a reply the way a
    network does, it closes the TCP transport instead of sending anything.
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(time.monotonic(), scope["method"], scope["path"], 0)
        if scope.get("query_string"):
            record.path += "?" + scope["query_string"].decode("latin-1")
        self.state.request_log.append(record)

        dropped = False

        async def guarded_send(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return  # the connection is gone: whatever the app still sends goes nowhere
            if message["type"] == "http.response.start":
                if scope.get(DROP_FLAG):
                    dropped = True
                    record.status = -1
                    await _drop_connection(send)
                    return
                record.status = int(message["status"])
            await send(message)

        await self.app(scope, receive, guarded_send)


async def _drop_connection(send: Send) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.close()
        # let connection_lost run so uvicorn knows the peer is gone and sends nothing itself
        for _ in range(3):
            await asyncio.sleep(0)
    else:  # another server: start a reply and never finish it, which loses it just the same
        await send(
            {"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"100")]}
        )


def _lifespan(state: ServerState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await state.engine.shutdown()  # no job task outlives the server

    return lifespan


def create_app(config: ServerConfig) -> tuple[ASGIApp, ServerState]:
    state = ServerState(config)

    def v1(path: str, handler: Handler, methods: list[str], image: bool = False) -> Route:
        return Route(path, api_route(handler, image_route=image), methods=methods)

    routes = [
        Route("/health", health, methods=["GET"]),
        v1("/v1/images/generate", generate, ["POST"], image=True),
        v1("/v1/images/models", list_models, ["GET"], image=True),
        v1("/v1/images/pricing", pricing, ["GET"], image=True),
        v1("/v1/images/{job_id}", get_image_job, ["GET"], image=True),
        v1("/v1/jobs", list_jobs, ["GET"]),
        v1("/v1/jobs/{job_id}", get_job, ["GET"]),
        v1("/v1/jobs/{job_id}", cancel_job, ["DELETE"]),
        v1("/v1/status", status, ["GET"]),
        v1("/v1/usage", usage, ["GET"]),
        Route("/files/{name:path}", serve_file, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: method_not_allowed, 500: server_error},
        lifespan=_lifespan(state),
    )
    app.state.naive = state
    return OuterLayer(app, state), state
