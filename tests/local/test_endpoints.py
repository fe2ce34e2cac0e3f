"""Every endpoint of the contract, over real HTTP, with the documented shapes."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from PIL import Image

from naive_nb.local import LocalServer

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_health_needs_no_key(local_server: LocalServer) -> None:
    reply = httpx.get(f"{local_server.url}/health")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_generate_replies_202_with_the_documented_shape(api: httpx.Client) -> None:
    reply = api.post("/v1/images/generate", json={"input": {"prompt": "a red fox", "seed": 1}})
    assert reply.status_code == 202
    body = reply.json()
    assert UUID.match(body["id"]) and body["job_id"] == body["id"]
    assert body["status"] == "queued"
    assert body["type"] == "image_generation"
    assert body["model"] == "fal-ai/flux/schnell"  # the default model
    assert body["estimated_seconds"] == 0.05  # 5 s for FLUX Schnell, at the time scale 0.01
    assert body["estimated_credits"] == 0.12
    assert body["id"] in body["hint"]


def test_job_runs_queued_processing_completed(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]], local_server: LocalServer
) -> None:
    local_server.config.time_scale = 0.1  # 0.5 s: long enough to watch it process
    job_id = api.post("/v1/images/generate", json={"input": {"prompt": "fox", "seed": 3}}).json()[
        "id"
    ]
    seen: list[tuple[str, int]] = []
    while True:
        job = api.get(f"/v1/jobs/{job_id}").json()
        seen.append((job["status"], job["progress"]))
        if job["status"] == "completed":
            break
        time.sleep(0.03)
    statuses = [s for s, _ in seen]
    assert "processing" in statuses
    progress = [p for s, p in seen if s == "processing"]
    assert progress == sorted(progress) and progress[-1] > progress[0]
    assert seen[-1] == ("completed", 100)
    assert ISO.match(job["created_at"]) and ISO.match(job["started_at"])
    assert ISO.match(job["completed_at"])
    assert job["error"] is None and job["credits_used"] == 0.12
    assert job["provider_request_id"].startswith("req-")
    assert job["metadata"]["estimated_seconds"] == 0.5  # scaled by 0.1, as the duration is
    assert [m["type"] for m in job["media"]] == ["image"]
    assert job["result"]["seed"] == 3 and job["result"]["prompt"] == "fox"
    assert job["result"]["engine"] == "naive-nb local preview"
    assert job["result"]["images"][0]["url"] == job["media"][0]["url"]


def test_result_files_are_served_with_the_requested_size_and_format(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    for size, fmt, expected in [
        ("landscape_16_9", "png", (1024, 576)),
        ("portrait_4_3", "jpeg", (768, 1024)),
        ({"width": 640, "height": 320}, "jpeg", (640, 320)),
    ]:
        body = {
            "input": {
                "prompt": "a lighthouse",
                "seed": 7,
                "num_images": 2,
                "image_size": size,
                "output_format": fmt,
            }
        }
        job = wait_done(api.post("/v1/images/generate", json=body).json()["id"])
        assert len(job["media"]) == 2
        for image in job["result"]["images"]:
            assert (image["width"], image["height"]) == expected
            data = httpx.get(image["url"])  # result URLs need no key, like a CDN's
            assert data.status_code == 200
            assert data.headers["content-type"] == f"image/{fmt}"
            picture = Image.open(io.BytesIO(data.content))
            assert picture.size == expected
            assert picture.format == fmt.upper()


def test_images_route_is_the_job_route_for_image_jobs(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    job_id = api.post("/v1/images/generate", json={"input": {"prompt": "x"}}).json()["id"]
    wait_done(job_id)
    assert api.get(f"/v1/images/{job_id}").json() == api.get(f"/v1/jobs/{job_id}").json()


def test_models_lists_the_catalog(api: httpx.Client) -> None:
    models = api.get("/v1/images/models").json()["models"]
    ids = [m["id"] for m in models]
    assert ids == [
        "fal-ai/flux/schnell",
        "fal-ai/flux/dev",
        "fal-ai/flux-pro/v1.1",
        "fal-ai/flux-realism",
        "fal-ai/stable-diffusion-v35-large",
        "fal-ai/recraft-v3",
        "fal-ai/flux-pro/v1.1/redux",
    ]
    defaults = [m["id"] for m in models if m.get("default")]
    assert defaults == ["fal-ai/flux/schnell"]
    pro = next(m for m in models if m["id"] == "fal-ai/flux-pro/v1.1")
    assert pro["key_params"] == ["prompt", "image_size", "num_images", "seed", "output_format"]
    assert {m["mode"] for m in models} == {"text-to-image", "image-to-image"}


def test_pricing_follows_the_rule_and_reports_the_credit_value(api: httpx.Client) -> None:
    schnell = api.get("/v1/images/pricing", params={"model": "fal-ai/flux/schnell"}).json()
    assert schnell == {
        "model": "fal-ai/flux/schnell",
        "num_images": 1,
        "estimated_credits": 0.12,
        "unit_price_usd": 0.003,
        "credit_value_usd": 0.05,
    }
    dev = api.get("/v1/images/pricing", params={"model": "fal-ai/flux/dev", "num_images": 4})
    # 0.025 USD x 4 images x 2 = 0.20 USD = 4 credits at 0.05 USD a credit
    assert dev.json()["estimated_credits"] == 4.0


def test_jobs_list_is_newest_first_filtered_and_limited(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    ids = [
        api.post("/v1/images/generate", json={"input": {"prompt": f"p{i}"}}).json()["id"]
        for i in range(3)
    ]
    for job_id in ids:
        wait_done(job_id)
    jobs = api.get("/v1/jobs").json()["jobs"]
    assert [j["id"] for j in jobs] == ids[::-1]
    assert set(jobs[0]) == {"id", "type", "status", "progress", "model", "created_at", "metadata"}
    assert [j["id"] for j in api.get("/v1/jobs", params={"limit": 2}).json()["jobs"]] == ids[:0:-1]
    assert api.get("/v1/jobs", params={"status": "failed"}).json() == {"jobs": []}
    assert len(api.get("/v1/jobs", params={"status": "completed"}).json()["jobs"]) == 3


def test_cancel_a_queued_job_is_free(
    api: httpx.Client, local_server: LocalServer, wait_done: Callable[..., dict[str, Any]]
) -> None:
    local_server.config.time_scale = 10  # long enough never to finish during the test
    job_id = api.post("/v1/images/generate", json={"input": {"prompt": "slow"}}).json()["id"]
    reply = api.delete(f"/v1/jobs/{job_id}")
    assert reply.status_code == 200
    assert reply.json() == {"id": job_id, "status": "cancelled", "credits_refunded": 0}
    job = api.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["credits_used"] == 0
    assert api.get("/v1/status").json()["credits"]["balance"] == 100.0
    assert api.get("/v1/usage").json()["transactions"] == []


def test_cancel_a_finished_job_is_a_conflict(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    job_id = api.post("/v1/images/generate", json={"input": {"prompt": "fast"}}).json()["id"]
    wait_done(job_id)
    reply = api.delete(f"/v1/jobs/{job_id}")
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "conflict"
    assert reply.json()["error"]["reason"] == "job_finished"


def test_status_and_usage_report_the_ledger(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    status = api.get("/v1/status").json()
    assert set(status) == {"agent", "company", "credits"}
    assert status["credits"]["balance"] == 100.0 and status["credits"]["tier"] == "pro"
    assert ISO.match(status["credits"]["period_end"])
    body = {"model": "fal-ai/flux/dev", "input": {"prompt": "paid", "num_images": 2}}
    job_id = api.post("/v1/images/generate", json=body).json()["id"]
    wait_done(job_id)
    usage = api.get("/v1/usage", params={"days": 30, "limit": 50}).json()
    assert usage["balance"] == 98.0 and usage["tier"] == "pro"
    [transaction] = usage["transactions"]
    assert transaction["action"] == "job_completion"
    assert transaction["amount"] == -2.0 and transaction["reference"] == job_id
    assert usage["summary"]["credits_spent"] == 2.0
    assert api.get("/v1/status").json()["credits"]["balance"] == 98.0


def test_rate_limit_headers_are_on_every_response(local_server: LocalServer) -> None:
    headers = {"Authorization": f"Bearer {local_server.api_key}"}
    with httpx.Client(base_url=local_server.url, headers=headers) as client:
        for reply in (
            client.get("/v1/status"),
            client.get("/v1/jobs/nope"),
            client.post("/v1/images/generate", json={}),
        ):
            assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
                reply.headers
            ), reply.status_code
            assert int(reply.headers["x-ratelimit-reset"]) > time.time()
