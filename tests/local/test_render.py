"""Determinism of the local preview engine, and that each axis visibly changes the picture."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from naive_nb.local import serve_local
from naive_nb.local.render import RenderRequest, render, render_bytes

BASE = RenderRequest(style="flow", prompt="a lighthouse at dusk", seed=42, width=256, height=256)


def difference(a: RenderRequest, b: RenderRequest) -> float:
    """Mean absolute pixel difference (0-255) between two renders."""
    diff = ImageChops.difference(render(a), render(b))
    return sum(ImageStat.Stat(diff).mean) / 3


def test_same_request_gives_identical_bytes() -> None:
    for fmt in ("jpeg", "png"):
        req = RenderRequest(**{**BASE.__dict__, "output_format": fmt})
        assert render_bytes(req) == render_bytes(req)


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 43},
        {"prompt": "a cat in a hat"},
        {"steps": 12},
        {"guidance": 12.0},
        {"style": "facets"},
        {"negative_prompt": "blurry"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_each_axis_changes_the_picture_visibly(change: dict[str, Any]) -> None:
    changed = RenderRequest(**{**BASE.__dict__, **change})
    assert difference(BASE, changed) > 4.0  # clearly visible, not a rounding artefact


def test_prompt_sets_the_palette_and_seed_the_composition() -> None:
    def mean_colour(req: RenderRequest) -> tuple[float, ...]:
        return tuple(ImageStat.Stat(render(req)).mean)

    same_prompt = [RenderRequest(**{**BASE.__dict__, "seed": s}) for s in (1, 2)]
    other_prompt = RenderRequest(**{**BASE.__dict__, "prompt": "a green forest", "seed": 1})
    near = sum(abs(x - y) for x, y in zip(*map(mean_colour, same_prompt), strict=True))
    far = sum(
        abs(x - y)
        for x, y in zip(mean_colour(same_prompt[0]), mean_colour(other_prompt), strict=True)
    )
    assert far > near  # a new seed rearranges; a new prompt recolours


def test_flagged_prompt_is_blacked_out_only_with_the_checker() -> None:
    flagged = RenderRequest(**{**BASE.__dict__, "prompt": "something nsfw"})
    assert render(flagged).getextrema() == ((0, 0), (0, 0), (0, 0))
    unchecked = RenderRequest(**{**flagged.__dict__, "safety_checker": False})
    assert render(unchecked).getextrema() != ((0, 0), (0, 0), (0, 0))


def sha_of_result(
    api: httpx.Client, body: dict[str, Any], wait_done: Callable[..., dict[str, Any]]
) -> list[str]:
    job = wait_done(api.post("/v1/images/generate", json=body).json()["id"])
    return [hashlib.sha256(httpx.get(m["url"]).content).hexdigest() for m in job["media"]]


def test_server_results_are_byte_identical_across_jobs_and_servers(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    body = {
        "model": "fal-ai/flux/dev",
        "input": {"prompt": "a fox", "seed": 9, "num_images": 2, "num_inference_steps": 8},
    }
    first = sha_of_result(api, body, wait_done)
    assert first == sha_of_result(api, body, wait_done)
    assert first[0] != first[1]  # image i of a batch uses seed + i
    with serve_local(api_key="other", time_scale=0) as other:
        auth = {"Authorization": "Bearer other"}
        job_id = httpx.post(f"{other.url}/v1/images/generate", json=body, headers=auth).json()["id"]
        while (job := httpx.get(f"{other.url}/v1/jobs/{job_id}", headers=auth).json())[
            "status"
        ] != "completed":
            time.sleep(0.01)
        again = [hashlib.sha256(httpx.get(m["url"]).content).hexdigest() for m in job["media"]]
    assert again == first


def test_models_differ_in_style_through_the_server(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    digests = set()
    for model in (
        "fal-ai/flux/schnell",
        "fal-ai/flux/dev",
        "fal-ai/flux-pro/v1.1",
        "fal-ai/flux-realism",
        "fal-ai/stable-diffusion-v35-large",
    ):
        body = {"model": model, "input": {"prompt": "a fox", "seed": 1}}
        digests.update(sha_of_result(api, body, wait_done))
    # Recraft takes no seed: the server draws one, as the provider would
    recraft = {"model": "fal-ai/recraft-v3", "input": {"prompt": "a fox", "style": "any"}}
    digests.update(sha_of_result(api, recraft, wait_done))
    assert len(digests) == 6


def test_unseeded_request_gets_a_concrete_seed(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    job = wait_done(api.post("/v1/images/generate", json={"input": {"prompt": "x"}}).json()["id"])
    assert isinstance(job["result"]["seed"], int)


def test_safety_checker_flags_through_the_server(
    api: httpx.Client, wait_done: Callable[..., dict[str, Any]]
) -> None:
    job = wait_done(
        api.post(
            "/v1/images/generate", json={"input": {"prompt": "gore scene", "num_images": 2}}
        ).json()["id"]
    )
    assert job["result"]["has_nsfw_concepts"] == [True, True]
    picture = Image.open(io.BytesIO(httpx.get(job["media"][0]["url"]).content))
    assert max(hi for _, hi in picture.getextrema()) < 10  # black (up to JPEG noise)


def test_result_files_expire() -> None:
    with serve_local(api_key="k", time_scale=0, file_ttl=0.3) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"})
        job_id = api.post("/v1/images/generate", json={"input": {"prompt": "x"}}).json()["id"]
        while (job := api.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
            pass
        url = job["media"][0]["url"]
        assert httpx.get(url).status_code == 200
        time.sleep(0.35)
        expired = httpx.get(url)
        assert expired.status_code == 404
        assert expired.json()["error"]["code"] == "resource_not_found"
        api.close()


def test_images_say_in_their_pixels_that_they_are_previews() -> None:
    picture = render(RenderRequest(**{**BASE.__dict__, "width": 1024, "height": 1024}))
    corner = picture.crop((0, 1024 - 40, 300, 1024)).convert("L")
    low, high = corner.getextrema()
    assert low < 60 and high > 240  # white text on the dark label box
