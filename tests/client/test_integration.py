"""Every method and every error of the sync client, over real HTTP against the embedded server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BillingBlockedError,
    ConflictError,
    InsufficientCreditsError,
    InvalidModelError,
    JobCancelled,
    JobFailed,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeout,
)
from naive_nb.local import LocalServer, serve_local

from ..conftest import CANARY_KEY
from .conftest import FAST_RETRY, run_in_fresh_thread

MODEL = "fal-ai/flux/schnell"


def test_catalog_pricing_status_usage(client: Client) -> None:
    models = client.models()
    assert models[0].id == MODEL and models[0].default
    assert {m.id for m in models} >= {"fal-ai/flux/dev", "fal-ai/recraft-v3"}
    price = client.pricing("fal-ai/flux/dev", 2)
    assert price.num_images == 2 and price.estimated_credits > 0
    assert price.usd == pytest.approx(price.estimated_credits * price.credit_value_usd)
    status = client.status()
    assert status["credits"]["balance"] == 100.0
    assert client.usage()["balance"] == 100.0


def test_generate_end_to_end(client: Client, local_server: LocalServer) -> None:
    submitted: list[str] = []
    updates: list[str] = []
    result = client.generate(
        "a lighthouse at dusk",
        num_images=2,
        image_size="square",
        on_submitted=lambda job: submitted.append(job.id),
        on_update=lambda job: updates.append(job.status),
    )
    assert submitted == [result.job.id]
    assert updates[-1] == "completed"
    assert result.job.status == "completed" and result.local_preview
    assert len(result.images) == 2 and result.seed is not None
    assert result.seeds == (result.seed, result.seed)
    image = result.images[0]
    assert (image.width, image.height) == (512, 512) == image.pil.size
    assert image.url.startswith(local_server.url + "/files/")
    # the same seed gives the same picture: a result can be re-made
    again = client.generate(
        "a lighthouse at dusk", num_images=2, image_size="square", seed=result.seed
    )
    assert again.images[0].data == image.data
    # credits are charged on completion
    assert client.usage()["balance"] < 100.0


def test_submit_get_wait_jobs_cancel(client: Client) -> None:
    job = client.submit(MODEL, {"prompt": "a", "seed": 1})
    assert client.get(job.id).id == job.id
    done = client.wait(job.id)
    assert done.status == "completed" and done.media_urls and done.seed == 1
    listed = client.jobs(limit=5)
    assert listed[0].id == job.id and listed[0].idempotency_key
    assert [j.id for j in client.jobs(status="completed")] == [job.id]
    assert client.cancel(job.id).status == "completed"  # already finished: reported as it is

    slow = client.submit("fal-ai/flux-pro/v1.1", {"prompt": "b"})
    cancelled = client.cancel(slow.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(JobCancelled):
        client.wait(slow.id)


def test_job_errors(client: Client, local_server: LocalServer) -> None:
    with pytest.raises(JobFailed) as failed:
        client.generate("this one will [fail]")
    assert "injected failure" in str(failed.value) and failed.value.job_id
    local_server.faults.job_failure_rate = 1.0
    local_server.faults.job_failure_message = "NSFW content detected."
    with pytest.raises(JobFailed, match="NSFW content detected"):
        client.generate("a harmless cat")
    local_server.faults.job_failure_rate = 0.0
    slow = client.submit("fal-ai/flux-pro/v1.1", {"prompt": "c"})
    with pytest.raises(WaitTimeout) as timeout:
        client.wait(slow.id, timeout=0.01)
    assert timeout.value.job_id == slow.id
    assert timeout.value.last_status in ("queued", "processing")
    with pytest.raises(NotFoundError):
        client.get("00000000-0000-0000-0000-000000000000")


def test_validation_by_the_server(make_client: Callable[..., Client]) -> None:
    unchecked = make_client(validate=False)
    with pytest.raises(ValidationError) as bad:
        unchecked.submit(MODEL, {"prompt": "x", "num_inference_steps": 99})
    assert bad.value.field == "input.num_inference_steps" and bad.value.status == 400
    with pytest.raises(InvalidModelError):
        unchecked.submit("no/such-model", {"prompt": "x"})


def test_conflict_on_a_reused_key(client: Client) -> None:
    client.submit(MODEL, {"prompt": "one"}, idempotency_key="k-1")
    again = client.submit(MODEL, {"prompt": "one"}, idempotency_key="k-1")
    assert again.id == client.jobs(limit=1)[0].id  # replayed, not a second job
    with pytest.raises(ConflictError):
        client.submit(MODEL, {"prompt": "two"}, idempotency_key="k-1")


def test_account_errors(local_server: LocalServer, make_client: Callable[..., Client]) -> None:
    with pytest.raises(AuthenticationError, match="check the api_key you passed"):
        Client("nv_sk_live_wrong", base_url=local_server.url).status()
    client = make_client()
    local_server.faults.forbidden = True
    with pytest.raises(PermissionDeniedError):
        client.generate("x")
    local_server.faults.forbidden = False
    local_server.faults.billing_blocked = True
    with pytest.raises(BillingBlockedError):
        client.generate("x")
    local_server.faults.billing_blocked = False
    local_server.faults.provider_reject_rate = 1.0
    with pytest.raises(ProviderError):
        client.generate("x")
    local_server.faults.provider_reject_rate = 0.0
    assert not local_server.jobs()  # none of these created anything


def test_insufficient_credits_carries_the_price() -> None:
    with (
        serve_local(api_key=CANARY_KEY, balance=0.05, rate_limit=None) as server,
        Client(CANARY_KEY, base_url=server.url) as client,
        pytest.raises(InsufficientCreditsError) as info,
    ):
        client.generate("x", model="fal-ai/flux-pro/v1.1", num_images=4)
    assert info.value.price is not None and info.value.price.num_images == 4
    assert f"{info.value.price.estimated_credits:g} credits" in str(info.value)


def test_server_errors_after_retries(
    local_server: LocalServer, make_client: Callable[..., Client]
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=3, base_delay=0.01, budget=5))
    local_server.faults.error_rate = 1.0
    with pytest.raises(ServerError):
        client.status()
    local_server.faults.error_rate = 0.0
    statuses = [r.status for r in local_server.request_log if r.path == "/v1/status"]
    assert statuses == [500, 500, 500]


def test_transient_faults_are_absorbed(
    local_server: LocalServer, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    local_server.faults.seed = 7
    local_server.faults.error_rate = 0.3
    local_server.faults.error_status = 503
    result = client.generate("flaky")
    local_server.faults.error_rate = 0.0
    assert result.job.status == "completed" and result.images


def test_rate_limit_beyond_the_cap_raises(local_server: LocalServer, client: Client) -> None:
    local_server.faults.rate_limit_burst = 1
    local_server.faults.burst_retry_after = 600
    with pytest.raises(RateLimitError) as info:
        client.status()
    assert info.value.retry_after == 600


def test_connection_and_timeout_errors(local_server: LocalServer) -> None:
    fast = RetryPolicy(max_attempts=2, base_delay=0.01)
    with (
        Client(CANARY_KEY, base_url="http://127.0.0.1:9", retry=fast) as client,
        pytest.raises(APIConnectionError, match="ConnectError"),
    ):
        client.models()
    local_server.faults.latency = 1.0
    with Client(CANARY_KEY, base_url=local_server.url, retry=fast, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.status()
        assert time.monotonic() - started < 2.0


def test_expired_result_files() -> None:
    with (
        serve_local(api_key=CANARY_KEY, time_scale=0.01, rate_limit=None, file_ttl=0.0) as server,
        Client(CANARY_KEY, base_url=server.url, retry=FAST_RETRY) as client,
        pytest.raises(NotFoundError, match="expire"),
    ):
        client.generate("gone")


def test_rate_limit_headers_feed_the_budget() -> None:
    with (
        serve_local(api_key=CANARY_KEY, rate_limit=5) as server,
        Client(CANARY_KEY, base_url=server.url) as client,
    ):
        for _ in range(5):
            client.status()
        gate = client.async_client._limiter.gate
        assert gate.remaining == 0 and gate.reset_at is not None
        assert all(r.status == 200 for r in server.request_log)


def test_download_a_finished_job(client: Client) -> None:
    job = client.submit(MODEL, {"prompt": "d", "seed": 5})
    done = client.wait(job.id)
    images = client.download(done)
    assert len(images) == 1 and images[0].seed == 5 and images[0].pil.size == (1024, 1024)
    assert client.download(job.id)[0].data == images[0].data
    running = client.submit("fal-ai/flux-pro/v1.1", {"prompt": "e"})
    with pytest.raises(ConflictError, match="still"):
        client.download(running.id)


def test_jobs_in_flight_are_capped(local_server: LocalServer) -> None:
    async def five(client: AsyncClient) -> None:
        await asyncio.gather(*(client.generate(f"capped {i}") for i in range(5)))

    async def main() -> None:
        async with AsyncClient(
            CANARY_KEY, base_url=local_server.url, max_jobs_in_flight=2, retry=FAST_RETRY
        ) as client:
            await five(client)

    run_in_fresh_thread(lambda: asyncio.run(main()))
    jobs = local_server.state.all_jobs()
    assert len(jobs) == 5
    for job in jobs:
        open_then = [
            other
            for other in jobs
            if other.created_at <= job.created_at
            and (other.completed_at is None or other.completed_at > job.created_at)
        ]
        assert len(open_then) <= 2
