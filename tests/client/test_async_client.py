"""Request logic of the engine, on ``httpx.MockTransport`` (no sockets)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._polling import PollSchedule
from naive_nb.client._types import Job
from naive_nb.errors import (
    APIConnectionError,
    APITimeoutError,
    JobCancelled,
    JobFailed,
    NotFoundError,
    RateLimitError,
    ServerError,
    SubmissionOutcomeUnknown,
    WaitTimeout,
)

from .conftest import FakeAPI, PNG_1x1, error

SUBMIT = ("POST", "/v1/images/generate")
MODEL = "fal-ai/flux/schnell"


def keys(fake_api: FakeAPI) -> list[str | None]:
    return [r.headers.get("idempotency-key") for r in fake_api.sent(*SUBMIT)]


async def test_submit_sends_one_idempotency_key_and_surfaces_the_job_at_once(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    seen: list[Job] = []
    async with mock_client(on_submitted=seen.append) as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        await client.submit(MODEL, {"prompt": "a"}, idempotency_key="mine")
    assert seen[0] == job and job.status == "queued"
    first, second = keys(fake_api)
    assert first and first.startswith("nvnb-") and second == "mine"
    assert fake_api.requests[1].headers["authorization"].startswith("Bearer nv_sk_live_")


async def test_connection_never_made_is_resent_with_the_same_key(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[SUBMIT] = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow")]
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
    assert len(set(keys(fake_api))) == 1 and len(keys(fake_api)) == 3
    assert not fake_api.sent("GET", "/v1/jobs")  # nothing can exist: no need to look
    assert list(fake_api.jobs) == [job.id]


@pytest.mark.parametrize(
    "refusal",
    [
        error(429, "rate_limited", **{"Retry-After": "0"}),
        error(503, "internal_error", **{"Retry-After-Ms": "10"}),
    ],
)
async def test_refusals_are_resent_without_reconciling(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient], refusal: httpx.Response
) -> None:
    fake_api.script[SUBMIT] = [refusal]
    async with mock_client() as client:
        await client.submit(MODEL, {"prompt": "a"})
    assert len(keys(fake_api)) == 2 and not fake_api.sent("GET", "/v1/jobs")


async def test_lost_reply_is_reconciled_by_key_without_resending(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    def create_then_drop(request: httpx.Request) -> httpx.Response:
        fake_api.create(request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    fake_api.script[SUBMIT] = [create_then_drop]
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
    assert list(fake_api.jobs) == [job.id]
    assert len(keys(fake_api)) == 1  # found it: no resend
    assert job.idempotency_key == keys(fake_api)[0]


async def test_5xx_after_create_is_reconciled(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    def create_then_500(request: httpx.Request) -> httpx.Response:
        fake_api.create(request)
        return error(500, "internal_error")

    fake_api.script[SUBMIT] = [create_then_500]
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
    assert list(fake_api.jobs) == [job.id] and len(keys(fake_api)) == 1


async def test_lost_reply_with_nothing_created_is_resent_with_the_same_key(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[SUBMIT] = [httpx.ReadTimeout("slow")]
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
    assert len(fake_api.sent("GET", "/v1/jobs")) == 1  # looked before resending
    assert len(keys(fake_api)) == 2 and len(set(keys(fake_api))) == 1
    assert list(fake_api.jobs) == [job.id]


async def test_server_ignoring_keys_gives_a_typed_error_not_a_duplicate(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    def create_keyless_then_drop(request: httpx.Request) -> httpx.Response:
        job = fake_api.create(request)
        job["metadata"].pop("idempotency_key")  # the hosted worst case: key ignored
        raise httpx.ReadError("connection reset")

    fake_api.script[SUBMIT] = [create_keyless_then_drop]
    async with mock_client() as client:
        with pytest.raises(SubmissionOutcomeUnknown) as info:
            await client.submit(MODEL, {"prompt": "a"})
    assert len(fake_api.jobs) == 1 and len(keys(fake_api)) == 1
    assert [c.id for c in info.value.candidates] == list(fake_api.jobs)
    assert info.value.idempotency_key == keys(fake_api)[0]
    assert info.value.idempotency_key in str(info.value)


async def test_jobs_this_client_returned_are_not_candidates(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    def keyless(request: httpx.Request) -> httpx.Response:
        job = fake_api.create(request)
        job["metadata"].pop("idempotency_key")
        return httpx.Response(202, json={"id": job["id"], "status": "queued"})

    fake_api.script[SUBMIT] = [keyless, httpx.ReadTimeout("slow")]
    async with mock_client() as client:
        mine = await client.submit(MODEL, {"prompt": "a"})
        second = await client.submit(MODEL, {"prompt": "b"})  # lost, nothing created, resent
    assert mine.id != second.id and len(fake_api.jobs) == 2


async def test_reads_retry_5xx_and_honour_retry_after_ms(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("GET", "/v1/status")] = [
        error(502, "bad_gateway"),
        error(503, "internal_error", **{"retry-after-ms": "100"}),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"credits": {"balance": 1}}),
    ]
    loop = asyncio.get_running_loop()
    async with mock_client() as client:
        started = loop.time()
        assert (await client.status())["credits"]["balance"] == 1
        assert loop.time() - started >= 0.1
    assert len(fake_api.sent("GET", "/v1/status")) == 4


async def test_reads_give_up_with_typed_errors(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("GET", "/v1/status")] = [error(500, "internal_error")] * 10
    fake_api.script[("GET", "/v1/usage")] = [httpx.ConnectError("refused")] * 10
    fake_api.script[("GET", "/v1/jobs")] = [httpx.ReadTimeout("slow")] * 10
    fake_api.script[("GET", "/v1/images/pricing")] = [
        error(429, "rate_limited", **{"Retry-After": "600"})
    ]
    async with mock_client() as client:
        with pytest.raises(ServerError):
            await client.status()
        with pytest.raises(APIConnectionError, match="ConnectError"):
            await client.usage()
        with pytest.raises(APITimeoutError):
            await client.jobs()
        with pytest.raises(RateLimitError) as info:
            await client.pricing()
    assert info.value.retry_after == 600
    assert "Wait 600 s" in str(info.value)
    assert len(fake_api.sent("GET", "/v1/status")) == 8  # FAST_RETRY.max_attempts


async def test_generate_seeds_waits_and_downloads(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    updates: list[str] = []
    fake_api.polls_until_done = 3
    async with mock_client(rng=random.Random(5)) as client:
        result = await client.generate(
            "a cat", num_images=2, on_update=lambda job: updates.append(job.status)
        )
    body = json.loads(fake_api.sent(*SUBMIT)[0].content)
    seed = body["input"]["seed"]
    assert isinstance(seed, int)
    assert body["input"] == {
        "prompt": "a cat",
        "image_size": "square_hd",
        "num_images": 2,
        "seed": seed,
    }
    assert result.seed == seed and result.seeds == (seed, seed)  # one seed for the batch
    assert updates == ["queued", "queued", "completed"]
    assert [img.data for img in result.images] == [PNG_1x1, PNG_1x1]
    assert result.images[0].pil.size == (1, 1) and result.images[0].format == "png"
    assert result.images[0].path is None
    downloads = [r for r in fake_api.requests if r.url.host == "files.example"]
    assert len(downloads) == 2
    # result files may live on another host: it never sees the key
    assert all("authorization" not in r.headers for r in downloads)


async def test_generate_omits_what_the_model_does_not_take(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        result = await client.generate("poster", model="fal-ai/recraft-v3", style="any")
    body = json.loads(fake_api.sent(*SUBMIT)[0].content)
    assert body["input"] == {"prompt": "poster", "image_size": "square_hd", "style": "any"}
    assert result.seed is None and result.seeds == ()


async def test_downloads_retry_and_report_expired_urls(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        done = await client.wait(job.id)
        fake_api.script[("GET", done.media_urls[0].split("files.example", 1)[1])] = [
            httpx.ReadError("reset"),
            error(503, "busy"),
        ]
        images = await client._download(done, 1, {})
        assert len(images) == 2
        fake_api.script[("GET", done.media_urls[1].split("files.example", 1)[1])] = [
            httpx.Response(404)
        ]
        with pytest.raises(NotFoundError, match="expire"):
            await client._download(done, 1, {})


async def test_wait_reports_failure_cancel_and_deadline(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        failed = await client.submit(MODEL, {"prompt": "a"})
        fake_api.jobs[failed.id].update(
            status="failed", error={"code": "provider_error", "message": "NSFW"}
        )
        fake_api.jobs[failed.id]["_polls"] = -99
        with pytest.raises(JobFailed) as info:
            await client.wait(failed.id)
        assert info.value.job_id == failed.id and info.value.server_message == "NSFW"

        cancelled = await client.submit(MODEL, {"prompt": "a"})
        await client.cancel(cancelled.id)
        with pytest.raises(JobCancelled):
            await client.wait(cancelled.id)

        fake_api.polls_until_done = 10**6
        slow = await client.submit(MODEL, {"prompt": "a"})
        with pytest.raises(WaitTimeout) as timeout:
            await client.wait(slow, timeout=0.2)
        assert timeout.value.last_status == "queued"


async def test_wait_honours_retry_after_on_status_replies(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.polls_until_done = 2
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        path = f"/v1/jobs/{job.id}"

        def busy(request: httpx.Request) -> httpx.Response:
            reply = fake_api.default(request)
            reply.headers["Retry-After"] = "0.3"
            return reply

        fake_api.script[("GET", path)] = [busy]
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.wait(job.id)
        assert loop.time() - started >= 0.3


async def test_cancel_of_a_finished_job_returns_it(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        await client.wait(job.id)
        fake_api.script[("DELETE", f"/v1/jobs/{job.id}")] = [
            httpx.Response(
                409,
                json={
                    "error": {"code": "conflict", "message": "finished", "reason": "job_finished"}
                },
            )
        ]
        assert (await client.cancel(job.id)).status == "completed"


async def test_task_cancellation_during_generate_cancels_the_remote_job(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.polls_until_done = 10**6
    submitted = asyncio.Event()
    async with mock_client() as client:
        task = asyncio.create_task(client.generate("a", on_submitted=lambda job: submitted.set()))
        await submitted.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
    (job_id,) = fake_api.jobs
    assert fake_api.sent("DELETE", f"/v1/jobs/{job_id}")
    assert fake_api.jobs[job_id]["status"] == "cancelled"
    assert "was cancelled on the server" in str(info.value)
    polls = len(fake_api.sent("GET", f"/v1/jobs/{job_id}"))
    await asyncio.sleep(0.2)
    assert len(fake_api.sent("GET", f"/v1/jobs/{job_id}")) == polls  # nothing keeps polling


async def test_old_deployments_sending_only_job_id(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[SUBMIT] = [httpx.Response(202, json={"job_id": "legacy-1", "status": "queued"})]
    async with mock_client() as client:
        assert (await client.submit(MODEL, {"prompt": "a"})).id == "legacy-1"


async def test_the_pace_of_a_model_is_learned_from_finished_jobs(
    mock_client: Callable[..., AsyncClient],
) -> None:
    def finished(ran: float) -> Job:
        return Job.from_api(
            {
                "id": "j",
                "status": "completed",
                "model": MODEL,
                "metadata": {"estimated_seconds": 5},
                "started_at": "2030-01-01T00:00:00Z",
                "completed_at": f"2030-01-01T00:00:0{ran}Z",
            }
        )

    fresh = Job.from_api({"id": "k", "status": "queued", "model": MODEL, "estimated_seconds": 5})
    async with mock_client(poll_schedule=None) as client:
        assert client._pace.schedule(fresh, 0.0).estimate == 5
        for ran in (2, 3, 2):  # this server runs jobs faster than it estimates
            client._pace.learn(finished(ran))
        assert client._pace.schedule(fresh, 0.0).estimate == pytest.approx(2.0)


async def test_an_unreadable_job_list_leaves_the_outcome_unknown(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[SUBMIT] = [httpx.ReadTimeout("slow")]
    fake_api.script[("GET", "/v1/jobs")] = [httpx.ConnectError("down")] * 10
    async with mock_client() as client:
        with pytest.raises(SubmissionOutcomeUnknown, match="could not be read"):
            await client.submit(MODEL, {"prompt": "a"})
    assert len(keys(fake_api)) == 1  # not resent blindly


async def test_downloads_follow_redirects(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        done = await client.wait(await client.submit(MODEL, {"prompt": "a"}))
        path = done.media_urls[0].split("files.example", 1)[1]
        fake_api.script[("GET", path)] = [
            httpx.Response(302, headers={"Location": "https://files.example/moved.png"})
        ]
        images = await client.download(done)
    assert images[0].data == PNG_1x1
    assert any(r.url.path == "/moved.png" for r in fake_api.requests)


def someone_elses_job(fake_api: FakeAPI, *, finished: bool) -> None:
    """A keyless job of the same model, made by another process (the server ignores keys)."""
    fake_api.jobs["other"] = {
        "id": "other",
        "status": "completed" if finished else "queued",
        "model": MODEL,
        "created_at": "2030-01-01T00:00:00Z",
        "metadata": {"estimated_seconds": 0.05},
        "result": {"prompt": "someone else's", "seed": 1} if finished else None,
        "_input": {"prompt": "someone else's", "seed": 1},
        "_polls": -(10**6),
    }


async def test_a_finished_candidate_for_another_request_is_ruled_out(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    someone_elses_job(fake_api, finished=True)
    fake_api.script[SUBMIT] = [httpx.ReadTimeout("slow")]
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "mine", "seed": 2})
    assert job.id != "other" and len(keys(fake_api)) == 2  # resent: nothing of ours existed
    assert fake_api.sent("GET", "/v1/jobs/other")


async def test_an_unfinished_candidate_keeps_the_outcome_unknown(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    someone_elses_job(fake_api, finished=False)
    fake_api.script[SUBMIT] = [httpx.ReadTimeout("slow")]
    async with mock_client() as client:
        with pytest.raises(SubmissionOutcomeUnknown) as info:
            await client.submit(MODEL, {"prompt": "mine", "seed": 2})
    assert [c.id for c in info.value.candidates] == ["other"]
    assert len(keys(fake_api)) == 1


async def test_wait_given_the_accepted_job_paces_its_first_look_from_the_submit(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    starts: list[float] = []

    def schedule(estimate: float | None, start: float) -> PollSchedule:
        starts.append(start)
        return PollSchedule(estimate, start=start, floor=0.001, cap=0.05, jitter=0.0)

    async with mock_client(poll_schedule=schedule) as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        submitted = time.monotonic()
        await asyncio.sleep(0.1)  # e.g. an earlier job of the run was waited for meanwhile
        done = await client.wait(job)
    assert done.status == "completed"
    # paced from the 202, not from the call to wait: the job's 0.05 s estimate has passed, so
    # the one and only look is made at once; no extra look comes before the paced one
    assert len(starts) == 1 and starts[0] <= submitted
    assert job.accepted_at is not None and starts[0] == job.accepted_at
    assert len(fake_api.sent("GET", f"/v1/jobs/{job.id}")) == 1


async def test_wait_given_a_job_read_back_paces_from_its_age(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    starts: list[float] = []

    def schedule(estimate: float | None, start: float) -> PollSchedule:
        starts.append(start)
        return PollSchedule(estimate, start=start, floor=0.001, cap=0.05, jitter=0.0)

    async with mock_client(poll_schedule=schedule) as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        created = datetime.now(timezone.utc) - timedelta(seconds=30)
        fake_api.jobs[job.id]["created_at"] = created.isoformat()
        fake_api.polls_until_done = 2  # the next read is a snapshot, still queued
        snapshot = await client.get(job.id)
        assert snapshot.accepted_at is None and snapshot.status == "queued"
        before = time.monotonic()
        await client.wait(snapshot)
    assert len(starts) == 1 and starts[0] == pytest.approx(before - 30, abs=1.0)


async def test_a_cancel_at_once_does_not_wait_for_the_next_rate_limit_window(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    # the submit's reply spends the window: a limited request waits about a minute for the next
    spent = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}

    def submit_spending_the_budget(request: httpx.Request) -> httpx.Response:
        job = fake_api.create(request)
        body = {"id": job["id"], "job_id": job["id"], "status": "queued"}
        return httpx.Response(202, json=body, headers=spent)

    fake_api.script[("POST", "/v1/images/generate")] = [submit_spending_the_budget]
    fake_api.polls_until_done = 10**6
    async with mock_client() as client:
        job = await client.submit(MODEL, {"prompt": "a"})
        delete = ("DELETE", f"/v1/jobs/{job.id}")
        with pytest.raises(RateLimitError):  # the limiter would hold it past the call's wait
            await asyncio.wait_for(client.cancel(job.id), 0.5)
        assert fake_api.sent(*delete) == []
        stopped = await asyncio.wait_for(client.cancel(job.id, at_once=True), 0.5)
        assert stopped.status == "cancelled" and len(fake_api.sent(*delete)) == 1
