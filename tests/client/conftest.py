"""Fixtures of the client tests: isolated environment, fast clients on the embedded server,
and a tiny in-memory API for ``httpx.MockTransport`` tests."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from naive_nb import errors
from naive_nb.client import _backend
from naive_nb.client._async import AsyncClient
from naive_nb.client._polling import PollSchedule
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.local import LocalServer

T = TypeVar("T")

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, budget=10.0)


def run_in_fresh_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a new thread. Async tests run their own event loop there: the main thread
    may already have a running loop (Playwright's sync API leaves one in other test packages),
    and a sync client must not care either way."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="async-test")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests with ``asyncio.run`` in a fresh thread."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run_in_fresh_thread(lambda: asyncio.run(pyfuncitem.obj(**kwargs)))
    return True


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's key or base URL."""
    monkeypatch.delenv("NAIVE_API_KEY", raising=False)
    monkeypatch.delenv("NAIVE_BASE_URL", raising=False)


@pytest.fixture
def make_client(local_server: LocalServer) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(**options: Any) -> Client:
        options.setdefault("retry", FAST_RETRY)
        client = Client(local_server.api_key, base_url=local_server.url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.fixture
def fresh_local_backend() -> Iterator[None]:
    """Let a test start the process-wide embedded server itself, and stop it afterwards."""
    saved = _backend._local
    _backend._local = None
    yield
    if _backend._local is not None:
        _backend._local.stop()
    _backend._local = saved


MODELS = {
    "models": [
        {
            "id": "fal-ai/flux/schnell",
            "name": "FLUX Schnell",
            "mode": "text-to-image",
            "key_params": [
                "prompt",
                "image_size",
                "num_images",
                "seed",
                "num_inference_steps",
                "guidance_scale",
                "enable_safety_checker",
                "output_format",
            ],
            "default": True,
        },
        {
            "id": "fal-ai/flux-pro/v1.1",
            "name": "FLUX Pro 1.1",
            "mode": "text-to-image",
            "key_params": ["prompt", "image_size", "num_images", "seed", "output_format"],
        },
        {
            "id": "fal-ai/recraft-v3",
            "name": "Recraft v3",
            "mode": "text-to-image",
            "key_params": ["prompt", "image_size", "style", "colors"],
        },
    ]
}
PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f5a4a90000000049454e44ae426082"
)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeAPI:
    """A scriptable stand-in for the API: records requests; ``script`` overrides routes.

    ``script[(method, path)]`` is a list of responders consumed in order (a responder is a
    Response, an exception to raise, or a callable taking the request).
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.script: dict[tuple[str, str], list[Any]] = {}
        self.polls_until_done = 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        queue = self.script.get(key)
        if queue:
            step = queue.pop(0)
            if isinstance(step, BaseException):
                raise step
            if callable(step):
                return step(request)  # type: ignore[no-any-return]
            return step  # type: ignore[no-any-return]
        return self.default(request)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def create(self, request: httpx.Request) -> dict[str, Any]:
        body = json.loads(request.content)
        job_id = str(uuid.uuid4())
        job = {
            "id": job_id,
            "status": "queued",
            "model": body["model"],
            "type": "image_generation",
            "created_at": "2030-01-01T00:00:00Z",
            "metadata": {
                "estimated_seconds": 0.05,
                "idempotency_key": request.headers.get("idempotency-key"),
            },
            "_input": body["input"],
            "_polls": 0,
        }
        self.jobs[job_id] = job
        return job

    def default(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/images/models":
            return httpx.Response(200, json=MODELS)
        if path == "/v1/images/generate" and request.method == "POST":
            job = self.create(request)
            reply = {"id": job["id"], "job_id": job["id"], "status": "queued"}
            return httpx.Response(202, json={**reply, "estimated_seconds": 0.05})
        if path == "/v1/jobs" and request.method == "GET":
            items = [
                {k: v for k, v in job.items() if not k.startswith("_")}
                for job in reversed(list(self.jobs.values()))
            ]
            return httpx.Response(200, json={"jobs": items})
        if path.startswith("/v1/jobs/") and request.method == "GET":
            job = self.jobs[path.rsplit("/", 1)[1]]
            job["_polls"] += 1
            if job["_polls"] >= self.polls_until_done and job["status"] in ("queued", "processing"):
                job["status"] = "completed"
                seed = job["_input"].get("seed")
                urls = [f"https://files.example/{job['id']}/{i}.png" for i in range(2)]
                job["media"] = [{"url": u, "type": "image"} for u in urls]
                job["result"] = {
                    "images": [{"url": u, "width": 1, "height": 1} for u in urls],
                    "seed": seed,
                }
            return httpx.Response(200, json={k: v for k, v in job.items() if not k.startswith("_")})
        if path.startswith("/v1/jobs/") and request.method == "DELETE":
            job = self.jobs[path.rsplit("/", 1)[1]]
            job["status"] = "cancelled"
            return httpx.Response(200, json={"id": job["id"], "status": "cancelled"})
        if request.url.host == "files.example":
            return httpx.Response(200, content=PNG_1x1, headers={"content-type": "image/png"})
        return httpx.Response(404, json={"error": {"code": "resource_not_found", "message": "?"}})


def error(status: int, code: str, message: str = "boom", **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message}}, headers=headers
    )


@pytest.fixture
def fake_api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def mock_client(fake_api: FakeAPI) -> Callable[..., AsyncClient]:
    def make(**options: Any) -> AsyncClient:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault(
            "poll_schedule", lambda e, s: PollSchedule(0.05, start=s, floor=0.001, cap=0.05)
        )
        return AsyncClient(
            "nv_sk_live_CANARY-not-a-real-key-0123456789abcdef",
            base_url="https://api.test",
            transport=httpx.MockTransport(fake_api),
            **options,
        )

    return make


async def refused_401(
    monkeypatch: pytest.MonkeyPatch,
    fake_api: FakeAPI,
    env: dict[str, str],
    args: dict[str, Any],
) -> errors.AuthenticationError:
    """What a client configured by ``env`` and ``args`` raises when the API answers 401."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fake_api.script[("GET", "/v1/status")] = [error(401, "unauthorized", "Invalid API key.")]
    client = AsyncClient(transport=httpx.MockTransport(fake_api), **args)
    async with client:
        with pytest.raises(errors.AuthenticationError) as info:
            await client.status()
    return info.value
