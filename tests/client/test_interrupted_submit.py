"""Ctrl-C (or task cancellation) while the creating POST is in flight: the client finds out
whether a job was created, cancels it, and says what became of it (or honestly that it cannot
tell, with the idempotency key)."""

from __future__ import annotations

import _thread
import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from naive_nb.client import _submit as _async_client
from naive_nb.client._async import AsyncClient
from naive_nb.client._sync import Client
from naive_nb.local import serve_local

from ..conftest import CANARY_KEY
from .conftest import FakeAPI, error

MODEL = "fal-ai/flux/schnell"


@pytest.fixture(autouse=True)
def _short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_async_client, "_INTERRUPT_POST_GRACE", 0.3, raising=False)


def _create_then_hang(fake_api: FakeAPI) -> Callable[[httpx.Request], object]:
    """A POST the server acts on (the job exists) whose reply never comes back."""

    async def respond(request: httpx.Request) -> httpx.Response:
        fake_api.create(request)
        await asyncio.sleep(30)
        raise AssertionError("the client should have hung up")

    return respond


async def _interrupt_when(condition: Callable[[], bool], task: asyncio.Task[object]) -> None:
    while not condition():
        await asyncio.sleep(0.005)
    task.cancel()


async def test_a_job_created_by_an_interrupted_post_is_found_and_cancelled(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("POST", "/v1/images/generate")] = [_create_then_hang(fake_api)]
    async with mock_client() as client:
        await client.models()
        task = asyncio.ensure_future(client.submit(MODEL, {"prompt": "paid"}))
        await _interrupt_when(lambda: bool(fake_api.jobs), task)
        with pytest.raises(asyncio.CancelledError) as info:
            await task
    (job,) = fake_api.jobs.values()
    assert job["status"] == "cancelled"
    assert len(fake_api.sent("GET", "/v1/jobs")) == 1  # looked up by idempotency key
    assert len(fake_api.sent("DELETE", f"/v1/jobs/{job['id']}")) == 1
    message = str(info.value)
    assert job["id"] in message and "cancelled on the server" in message
    assert "created by the interrupted submit" in message


async def test_when_the_job_list_cannot_be_read_it_says_it_cannot_tell(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("POST", "/v1/images/generate")] = [_create_then_hang(fake_api)]
    fake_api.script[("GET", "/v1/jobs")] = [error(500, "internal_error")]
    async with mock_client() as client:
        await client.models()
        task = asyncio.ensure_future(client.submit(MODEL, {"prompt": "x"}, idempotency_key="k-7"))
        await _interrupt_when(lambda: bool(fake_api.jobs), task)
        with pytest.raises(asyncio.CancelledError) as info:
            await task
    message = str(info.value)
    assert "could not tell" in message and "k-7" in message
    assert "no job" not in message


async def test_interrupted_before_sending_nothing_was_created(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        await client.models()
        client._limiter.gate.paused_until = time.time() + 5  # held by a rate-limit pause
        task = asyncio.ensure_future(client.submit(MODEL, {"prompt": "x"}))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError, match="before the submit was sent"):
            await task
    assert fake_api.sent("POST", "/v1/images/generate") == []
    assert fake_api.sent("GET", "/v1/jobs") == []


def test_ctrl_c_mid_post_on_the_embedded_server_cancels_the_job_it_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server sleeps `latency` before handling the POST; Ctrl-C lands in that sleep. The
    # client keeps the connection open for a moment (the real grace: the reply is due ~0.3 s
    # after the interrupt), so the server creates the job and answers.
    monkeypatch.setattr(_async_client, "_INTERRUPT_POST_GRACE", 1.0, raising=False)
    with (
        serve_local(api_key=CANARY_KEY, time_scale=1.0, rate_limit=None) as server,
        Client(CANARY_KEY, base_url=server.url) as client,
    ):
        client.models()
        server.faults.latency = 0.4

        def interrupt_mid_post() -> None:
            while not any(r.method == "POST" for r in server.request_log):
                time.sleep(0.005)
            time.sleep(0.1)
            server.faults.latency = 0.0  # the POST keeps its 0.4 s; the lookups are quick
            _thread.interrupt_main()

        threading.Thread(target=interrupt_mid_post, daemon=True).start()
        with pytest.raises(KeyboardInterrupt) as info:
            client.submit("fal-ai/flux/dev", {"prompt": "a paid one"})
        (job,) = server.jobs()
        assert client.get(job["id"]).status == "cancelled"
    deletes = [r for r in server.request_log if r.method == "DELETE"]
    assert len(deletes) == 1 and deletes[0].status == 200
    post = next(r for r in server.request_log if r.method == "POST")
    assert post.status == 202  # the client let the POST answer; its reply named the job
    assert not [r for r in server.request_log if r.path.startswith("/v1/jobs?")]
    assert job["id"] in str(info.value) and "cancelled on the server" in str(info.value)
