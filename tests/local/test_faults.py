"""Fault injection, idempotency and the rate limit: the behaviours clients are tested against."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from naive_nb.local import Faults, LocalServer, serve_local

BODY = {"input": {"prompt": "a fox", "seed": 1}}


def test_latency_is_added(api: httpx.Client, local_server: LocalServer) -> None:
    local_server.faults.latency = 0.3
    started = time.monotonic()
    assert api.get("/v1/status").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_error_rate_answers_500_before_anything_is_done(
    api: httpx.Client, local_server: LocalServer
) -> None:
    local_server.faults.error_rate = 1.0
    reply = api.post("/v1/images/generate", json=BODY)
    assert reply.status_code == 500 and reply.json()["error"]["code"] == "internal_error"
    assert "retry-after" not in reply.headers
    local_server.faults.error_status = 503
    reply = api.get("/v1/status")
    assert reply.status_code == 503 and reply.headers["retry-after"] == "1"
    assert local_server.jobs() == []


def test_error_rate_is_a_fraction_and_reproducible_with_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        faults = Faults(error_rate=0.3, seed=seed)
        with serve_local(api_key="k", faults=faults, rate_limit=None) as server:
            headers = {"Authorization": "Bearer k"}
            with httpx.Client(base_url=server.url, headers=headers) as api:
                return [api.get("/v1/status").status_code for _ in range(200)]

    first = statuses(7)
    assert first == statuses(7)
    failures = first.count(500)
    assert 30 <= failures <= 90, failures  # 0.3 of 200, well within binomial spread
    assert set(first) == {200, 500}


def test_error_after_create_creates_the_job(api: httpx.Client, local_server: LocalServer) -> None:
    local_server.faults.error_after_create_rate = 1.0
    reply = api.post("/v1/images/generate", json=BODY)
    assert reply.status_code == 500
    assert len(local_server.jobs()) == 1


def test_dropped_response_after_create(api: httpx.Client, local_server: LocalServer) -> None:
    local_server.faults.drop_after_create_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/images/generate", json=BODY, headers={"Idempotency-Key": "k-1"})
    [job] = local_server.jobs()
    assert job["metadata"]["idempotency_key"] == "k-1"
    assert local_server.request_log[-1].status == -1  # recorded as dropped
    # the server keeps serving afterwards, and the key replays the job the caller never saw
    local_server.faults.drop_after_create_rate = 0.0
    replay = api.post("/v1/images/generate", json=BODY, headers={"Idempotency-Key": "k-1"})
    assert replay.status_code == 202 and replay.json()["id"] == job["id"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert len(local_server.jobs()) == 1


def test_rate_limit_burst_then_recovery(api: httpx.Client, local_server: LocalServer) -> None:
    local_server.faults.rate_limit_burst = 2
    local_server.faults.burst_retry_after = 3
    for _ in range(2):
        reply = api.get("/v1/status")
        assert reply.status_code == 429 and reply.json()["error"]["code"] == "rate_limited"
        assert reply.headers["retry-after"] == "3"
        assert reply.headers["x-ratelimit-remaining"] == "0"
    assert api.get("/v1/status").status_code == 200


def test_rate_limit_per_key_with_headers() -> None:
    with serve_local(api_key=["a", "b"], rate_limit=5) as server:
        a = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer a"})
        b = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer b"})
        remaining = [int(a.get("/v1/jobs").headers["x-ratelimit-remaining"]) for _ in range(5)]
        assert remaining == [4, 3, 2, 1, 0]
        over = a.get("/v1/jobs/any")  # polling counts as much as anything else
        assert over.status_code == 429
        assert over.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert over.headers["x-ratelimit-limit"] == "5"
        assert b.get("/v1/jobs").status_code == 200  # another key has its own window
        a.close()
        b.close()


def test_failing_jobs(
    api: httpx.Client, local_server: LocalServer, wait_done: Callable[..., dict[str, Any]]
) -> None:
    local_server.faults.job_failure_rate = 1.0
    local_server.faults.job_failure_message = "The GPU caught fire."
    job = wait_done(api.post("/v1/images/generate", json=BODY).json()["id"])
    assert job["status"] == "failed"
    assert job["error"] == {"code": "provider_error", "message": "The GPU caught fire."}
    assert job["credits_used"] == 0 and job["media"] == [] and job["result"] is None
    local_server.faults.job_failure_rate = 0.0
    marked = {"input": {"prompt": "please [fail] now"}}
    assert (
        wait_done(api.post("/v1/images/generate", json=marked).json()["id"])["status"] == "failed"
    )
    assert api.get("/v1/status").json()["credits"]["balance"] == 100.0  # failures are free


def test_idempotency_replays_the_first_reply(api: httpx.Client, local_server: LocalServer) -> None:
    first = api.post("/v1/images/generate", json=BODY, headers={"Idempotency-Key": "abc"})
    again = api.post("/v1/images/generate", json=BODY, headers={"Idempotency-Key": "abc"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(local_server.jobs()) == 1
    other = {"input": {"prompt": "something else"}}
    conflict = api.post("/v1/images/generate", json=other, headers={"Idempotency-Key": "abc"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "duplicate_request"
    assert len(local_server.jobs()) == 1


def test_idempotency_off_creates_duplicates(api: httpx.Client, local_server: LocalServer) -> None:
    local_server.faults.idempotency = False
    ids = {
        api.post("/v1/images/generate", json=BODY, headers={"Idempotency-Key": "abc"}).json()["id"]
        for _ in range(3)
    }
    assert len(ids) == 3
    assert all("idempotency_key" not in job["metadata"] for job in local_server.jobs())


def test_request_log_records_what_was_sent(api: httpx.Client, local_server: LocalServer) -> None:
    api.get("/v1/jobs", params={"limit": 3})
    record = local_server.request_log[-1]
    assert (record.method, record.path, record.status) == ("GET", "/v1/jobs?limit=3", 200)
    assert record.time <= time.monotonic()


def test_setting_the_seed_at_run_time_replays_the_dice(local_server: LocalServer) -> None:
    faults = local_server.faults
    faults.seed = 5
    first = [faults.roll(0.5) for _ in range(50)]
    faults.seed = 5
    assert [faults.roll(0.5) for _ in range(50)] == first
    assert 10 < sum(first) < 40  # really dice, not a constant
