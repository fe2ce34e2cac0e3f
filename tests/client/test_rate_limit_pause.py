"""A spent rate-limit budget: the reset is read defensively, the pause is capped and counted
against the call's budget, and it is reported (``on_notice``) instead of sitting silent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._limiter import Gate, parse_reset
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.client._types import Notice
from naive_nb.errors import RateLimitError

from .conftest import FakeAPI

NOW = 1_800_000_000.0  # a plausible Unix time


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Reset": str(NOW + 30)}, NOW + 30),  # Unix seconds, as documented
        ({"X-RateLimit-Reset": str(int((NOW + 30) * 1000))}, NOW + 30),  # Unix milliseconds
        ({"X-RateLimit-Reset": "30"}, NOW + 30),  # seconds left
        ({"X-RateLimit-Reset": str(NOW - 5)}, NOW - 5),  # just passed: the window is over
        # the server's clock runs a day ahead of ours: its reset is 30 s after *its* now
        ({"X-RateLimit-Reset": str(NOW + 86_400 + 30), "Date": formatdate(NOW + 86_400)}, NOW + 30),
    ],
)
def test_the_reset_is_read_as_seconds_milliseconds_or_delta(
    headers: dict[str, str], expected: float
) -> None:
    assert parse_reset(headers, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "raw", ["", "soon", "-5", "nan", "inf", str(NOW + 7 * 86_400), "1e18", "90000"]
)
def test_absurd_resets_are_ignored(raw: str) -> None:
    assert parse_reset({"X-RateLimit-Reset": raw}, now=NOW) is None


def test_a_spent_budget_with_an_absurd_reset_does_not_block() -> None:
    gate = Gate()
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str((NOW + 10**9) * 1000)}
    gate.done(NOW, probe=False, status=200, retry_after=None, headers=headers)
    assert gate.admit(NOW).go


def _limited(reset: float, **extra: str) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        headers = {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0"}
        headers["X-RateLimit-Reset"] = str(reset)
        headers.update(extra)
        return httpx.Response(200, json={"credits": {"balance": 1}}, headers=headers)

    return reply


OK = httpx.Response(200, json={"credits": {"balance": 1}})


async def test_a_reset_in_milliseconds_pauses_seconds_not_decades(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    # The reviewer's repro: the second call blocked for decades with one request sent.
    reset_ms = int((time.time() + 1.8) * 1000)  # a notice: over NOTICE_MIN
    fake_api.script[("GET", "/v1/status")] = [_limited(reset_ms), OK]
    notices: list[Notice] = []
    async with mock_client(on_notice=notices.append) as client:
        await client.status()
        await asyncio.wait_for(client.status(), 10)
    assert len(fake_api.sent("GET", "/v1/status")) == 2
    assert [n.kind for n in notices] == ["rate_limited"]
    assert str(notices[0]).startswith("rate limited, resuming in ")


async def test_a_skewed_server_clock_does_not_stretch_the_pause(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    ahead = time.time() + 86_400  # the server's clock runs a day fast
    fake_api.script[("GET", "/v1/status")] = [_limited(ahead + 1, Date=formatdate(ahead)), OK]
    async with mock_client() as client:
        await client.status()
        await asyncio.wait_for(client.status(), 10)
    assert len(fake_api.sent("GET", "/v1/status")) == 2


async def test_a_pause_beyond_the_cap_raises_at_once_saying_when(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("GET", "/v1/status")] = [_limited(time.time() + 600)]
    async with mock_client() as client:
        await client.status()
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await asyncio.wait_for(client.status(), 5)  # not waited out
        assert time.monotonic() - started < 5
    assert len(fake_api.sent("GET", "/v1/status")) == 1  # nothing was sent
    assert info.value.retry_after == pytest.approx(600, abs=2)
    assert "UTC" in str(info.value) and "nothing was sent" in str(info.value)
    assert "Wait 6" in str(info.value)  # says when to retry


async def test_the_pause_counts_against_the_call_budget(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("GET", "/v1/status")] = [_limited(time.time() + 20)]
    policy = RetryPolicy(max_retry_after=60, budget=5)
    async with mock_client(retry=policy) as client:
        await client.status()
        with pytest.raises(RateLimitError, match=r"may wait \(5 s\)"):
            await asyncio.wait_for(client.status(), 5)
    assert len(fake_api.sent("GET", "/v1/status")) == 1


async def test_a_wait_says_it_is_rate_limited_and_resumes(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.polls_until_done = 2
    async with mock_client() as client:
        job = await client.submit("fal-ai/flux/schnell", {"prompt": "a"})
        fake_api.script[("GET", f"/v1/jobs/{job.id}")] = [
            lambda request: httpx.Response(
                200,
                json={"id": job.id, "status": "processing", "model": job.model},
                headers={
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(time.time() + 1.8),
                },
            )
        ]
        notices: list[Notice] = []
        done = await asyncio.wait_for(client.wait(job, on_notice=notices.append), 10)
    assert done.status == "completed"
    assert [(n.kind, n.job_id) for n in notices] == [("rate_limited", job.id)]


def test_sync_notices_reach_the_calling_thread(fake_api: FakeAPI) -> None:
    import threading

    fake_api.script[("GET", "/v1/status")] = [_limited(time.time() + 1.8), OK]
    threads: list[str] = []
    with Client(
        "nv_sk_live_x",
        base_url="https://api.test",
        transport=httpx.MockTransport(fake_api),
        on_notice=lambda notice: threads.append(threading.current_thread().name),
    ) as client:
        client.status()
        client.status()
    assert threads == [threading.current_thread().name]
