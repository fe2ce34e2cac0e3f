"""A submit whose reply is lost: the job the client finds in the job list is collected in full.

``GET /v1/jobs`` items carry no ``media``/``result``; a job found there after a lost reply may
already be completed. Its full record must be read before it counts as finished, and a completed
job with no images is an error, never a result of none (the server charged for it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._sync import Client
from naive_nb.client._types import TERMINAL, Job
from naive_nb.errors import JobResultMissing
from naive_nb.local import Faults, LocalServer, serve_local

from ..conftest import CANARY_KEY
from .conftest import FAST_RETRY, FakeAPI

GENERATE = "/v1/images/generate"


class Observed(httpx.AsyncHTTPTransport):
    """Real HTTP to ``server``, with the worst timing made certain: the job list is read only once
    every job the server created has finished (so a job found there is a completed list item).
    With ``lose_first_reply``, the first submit's reply, which the server did send (its job
    exists), is thrown away as a read timeout: a server slower than the client's timeout."""

    def __init__(self, server: LocalServer, *, lose_first_reply: bool = False) -> None:
        super().__init__()
        self.server = server
        self.lose_first_reply = lose_first_reply
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/v1/jobs":
            for _ in range(2000):  # bounded (10 s), so a stuck job cannot hang the suite
                if all(job["status"] in TERMINAL for job in self.server.jobs()):
                    break
                await asyncio.sleep(0.005)
        response = await super().handle_async_request(request)
        submit = request.method == "POST" and request.url.path == GENERATE
        if submit and self.lose_first_reply and not self.lost:
            await response.aread()
            await response.aclose()
            self.lost += 1
            raise httpx.ReadTimeout("timed out waiting for the reply (test)", request=request)
        return response


def served_urls(server: LocalServer) -> list[list[str]]:
    """The image URLs of every job the server created (and, once completed, charged)."""
    return [[m["url"] for m in job["media"]] for job in server.jobs()]


@pytest.mark.parametrize("fault", ["drop_after_create", "error_after_create", "read_timeout"])
@pytest.mark.parametrize(("seed", "num_images"), [(1, 1), (2, 3)])
def test_a_job_found_after_a_lost_reply_comes_back_with_all_its_images(
    fault: str, seed: int, num_images: int
) -> None:
    with serve_local(api_key=CANARY_KEY, time_scale=0.001, rate_limit=None) as server:
        transport = Observed(server, lose_first_reply=fault == "read_timeout")
        if fault != "read_timeout":
            setattr(server.faults, f"{fault}_rate", 1)
        with Client(CANARY_KEY, base_url=server.url, retry=FAST_RETRY, transport=transport) as c:
            result = c.generate("a cat", seed=seed, num_images=num_images)
        posts = [r for r in server.request_log if r.path == GENERATE]
        lists = [r for r in server.request_log if r.path.startswith("/v1/jobs?")]
        (job,) = server.jobs()
    # the fault happened: the only submit's reply never reached the client, which found the
    # job in the job list
    assert len(posts) == 1 and len(lists) == 1
    if fault == "drop_after_create":
        assert posts[0].status == -1
    elif fault == "error_after_create":
        assert posts[0].status == 500
    else:
        assert transport.lost == 1
    assert job["status"] == "completed" and len(job["media"]) == num_images
    assert result.job.id == job["id"] and result.job.status == "completed"
    assert [image.url for image in result.images] == [m["url"] for m in job["media"]]
    assert all(image.data and image.pil.size == (1024, 1024) for image in result.images)
    assert result.seeds == (seed,) * num_images


def test_a_sweep_with_half_the_replies_dropped_loses_no_paid_job() -> None:
    faults = Faults(seed=3, drop_after_create_rate=0.5)
    seeds = range(1, 9)
    with serve_local(
        api_key=CANARY_KEY, time_scale=0.001, rate_limit=None, faults=faults
    ) as server:
        transport = Observed(server)
        with Client(CANARY_KEY, base_url=server.url, retry=FAST_RETRY, transport=transport) as c:
            results = [c.generate("a lighthouse", seed=s, num_images=2) for s in seeds]
        dropped = [r for r in server.request_log if r.path == GENERATE and r.status == -1]
        created = server.jobs()
        urls = served_urls(server)
    assert len(dropped) >= 2  # the faults really happened
    assert len([r for r in server.request_log if r.path.startswith("/v1/jobs?")]) == len(dropped)
    assert len(created) == len(seeds)  # one job per request made, no resends
    assert all(job["status"] == "completed" for job in created)
    assert [r.seed for r in results] == list(seeds)
    returned = [[image.url for image in r.images] for r in results]
    assert returned == urls  # every charged job's images came back, in order
    assert all(len(images) == 2 for images in returned)


def test_wait_and_download_read_the_full_record_of_a_job_list_item(client: Client) -> None:
    done = client.wait(client.submit("fal-ai/flux/schnell", {"prompt": "a fox", "seed": 5}))
    (item,) = client.jobs()
    assert item.partial and item.status == "completed" and item.media_urls == ()
    assert client.wait(item).media_urls == done.media_urls
    assert [image.url for image in client.download(item)] == list(done.media_urls)


def _completed_without_media(fake_api: FakeAPI) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        job = fake_api.jobs[request.url.path.rsplit("/", 1)[1]]
        job["status"] = "completed"
        return httpx.Response(200, json={k: v for k, v in job.items() if not k.startswith("_")})

    return reply


async def test_a_completed_job_whose_full_record_has_no_images_is_an_error(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    job_id: list[str] = []

    def remember(job: Job) -> None:
        job_id.append(job.id)
        path = f"/v1/jobs/{job.id}"
        fake_api.script[("GET", path)] = [_completed_without_media(fake_api)] * 5

    async with mock_client() as client:
        with pytest.raises(JobResultMissing) as info:
            await client.generate("a cat", seed=1, on_submitted=remember)
        with pytest.raises(JobResultMissing):
            await client.download(job_id[0])
    assert info.value.job_id == job_id[0] and job_id[0] in str(info.value)
    assert "no images" in str(info.value) and info.value.job is not None


async def test_a_reconciled_list_item_is_fetched_in_full_before_it_counts_as_done(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    """The contract's list items, exactly: completed, without media or result."""

    def create_then_drop(request: httpx.Request) -> httpx.Response:
        job = fake_api.create(request)
        # it finished (with its images) before the client looked
        fake_api.default(httpx.Request("GET", f"https://api.test/v1/jobs/{job['id']}"))
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    def listing(request: httpx.Request) -> httpx.Response:
        summary = ("id", "type", "status", "progress", "model", "created_at", "metadata")
        items = [{k: job.get(k) for k in summary} for job in reversed(fake_api.jobs.values())]
        return httpx.Response(200, json={"jobs": items})

    fake_api.script[("POST", GENERATE)] = [create_then_drop]
    fake_api.script[("GET", "/v1/jobs")] = [listing]
    async with mock_client() as client:
        job = await client.submit("fal-ai/flux/schnell", {"prompt": "a cat", "seed": 1})
        assert job.partial and job.status == "completed"
        result = await client.wait(job)
    (created,) = fake_api.jobs.values()
    assert result.id == created["id"] and len(result.media_urls) == 2
    assert not result.partial
    assert [r.url.path for r in fake_api.requests].count(f"/v1/jobs/{created['id']}") == 1
    body = json.loads(fake_api.sent("POST", GENERATE)[0].content)
    assert body["input"]["seed"] == 1
