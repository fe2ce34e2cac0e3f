"""Every error code of the contract, and every kind of bad input, answered with the envelope."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from naive_nb.local import LocalServer, serve_local


def assert_error(reply: httpx.Response, status: int, code: str, reason: str | None = None) -> str:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["hint"]
    if reason is not None:
        assert error.get("reason") == reason
    return str(error["message"])


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing API key."),
        ({"Authorization": "Bearer nv_sk_live_wrong"}, "Missing or invalid API key."),
        ({"Authorization": "Basic abc"}, "Missing or invalid API key."),
        ({"Authorization": "Bearer"}, "Missing or invalid API key."),
    ],
)
def test_missing_or_wrong_key_is_401(
    local_server: LocalServer, headers: dict[str, str], message: str
) -> None:
    for method, path in [
        ("GET", "/v1/status"),
        ("POST", "/v1/images/generate"),
        ("GET", "/v1/jobs"),
        ("DELETE", "/v1/jobs/x"),
    ]:
        reply = httpx.request(method, local_server.url + path, headers=headers)
        assert assert_error(reply, 401, "unauthorized") == message
    assert local_server.jobs() == []


BAD_INPUTS: list[tuple[Any, str, str, str]] = [
    # body, code, reason, a phrase the message must contain
    (
        {"model": "fal-ai/nope", "input": {"prompt": "x"}},
        "invalid_model",
        "model",
        "Allowed: fal-ai/flux/schnell",
    ),
    ({"model": 3, "input": {"prompt": "x"}}, "invalid_model", "model", "not in the catalog"),
    ({"input": {}}, "invalid_input", "input.prompt", "required"),
    ({"input": {"prompt": "   "}}, "invalid_input", "input.prompt", "must not be empty"),
    ({"input": {"prompt": 5}}, "invalid_input", "input.prompt", "must be a string"),
    ({"input": {"prompt": "x" * 4001}}, "invalid_input", "input.prompt", "4000"),
    ({}, "invalid_input", "input", "JSON object"),
    ({"input": "a cat"}, "invalid_input", "input", "JSON object"),
    ({"input": {"prompt": "x"}, "webhook": "y"}, "invalid_input", "webhook", "allowed: model"),
    (
        {"model": "fal-ai/flux-pro/v1.1", "input": {"prompt": "x", "num_inference_steps": 4}},
        "invalid_input",
        "input.num_inference_steps",
        "does not take",
    ),
    (
        {"model": "fal-ai/flux-pro/v1.1", "input": {"prompt": "x", "guidance_scale": 4}},
        "invalid_input",
        "input.guidance_scale",
        "Allowed: prompt, image_size",
    ),
    ({"input": {"prompt": "x", "colour": "red"}}, "invalid_input", "input.colour", "does not take"),
    ({"input": {"prompt": "x", "num_images": 5}}, "invalid_input", "input.num_images", "1 to 4"),
    ({"input": {"prompt": "x", "num_images": 0}}, "invalid_input", "input.num_images", "1 to 4"),
    ({"input": {"prompt": "x", "num_images": "2"}}, "invalid_input", "input.num_images", "integer"),
    (
        {"input": {"prompt": "x", "num_images": True}},
        "invalid_input",
        "input.num_images",
        "integer",
    ),
    ({"input": {"prompt": "x", "seed": -1}}, "invalid_input", "input.seed", "0 to 4294967295"),
    ({"input": {"prompt": "x", "seed": 1.5}}, "invalid_input", "input.seed", "integer"),
    (
        {"input": {"prompt": "x", "num_inference_steps": 13}},
        "invalid_input",
        "input.num_inference_steps",
        "1 to 12",
    ),
    (
        {"input": {"prompt": "x", "guidance_scale": "high"}},
        "invalid_input",
        "input.guidance_scale",
        "number from 0 to 20",
    ),
    (
        {"input": {"prompt": "x", "guidance_scale": 21}},
        "invalid_input",
        "input.guidance_scale",
        "number from 0 to 20",
    ),
    (
        {"input": {"prompt": "x", "image_size": "huge"}},
        "invalid_input",
        "input.image_size",
        "square_hd, square, portrait_4_3",
    ),
    (
        {"input": {"prompt": "x", "image_size": {"width": 100, "height": 512}}},
        "invalid_input",
        "input.image_size",
        "multiples of 32",
    ),
    (
        {"input": {"prompt": "x", "image_size": {"width": 512}}},
        "invalid_input",
        "input.image_size",
        "multiples of 32",
    ),
    (
        {"input": {"prompt": "x", "output_format": "gif"}},
        "invalid_input",
        "input.output_format",
        "jpeg, png",
    ),
    (
        {"input": {"prompt": "x", "enable_safety_checker": "no"}},
        "invalid_input",
        "input.enable_safety_checker",
        "true or false",
    ),
    (
        {"model": "fal-ai/recraft-v3", "input": {"prompt": "x", "style": "cubism"}},
        "invalid_input",
        "input.style",
        "realistic_image",
    ),
    (
        {
            "model": "fal-ai/recraft-v3",
            "input": {"prompt": "x", "colors": [{"r": 300, "g": 0, "b": 0}]},
        },
        "invalid_input",
        "input.colors",
        "up to 5 colours",
    ),
    (
        {"model": "fal-ai/flux-realism", "input": {"prompt": "x", "strength": 2}},
        "invalid_input",
        "input.strength",
        "0 to 1",
    ),
    (
        {"model": "fal-ai/flux-pro/v1.1/redux", "input": {"prompt": "x"}},
        "invalid_input",
        "input.image_url",
        "required",
    ),
    (
        {"model": "fal-ai/flux-pro/v1.1/redux", "input": {"image_url": "file:///etc/passwd"}},
        "invalid_input",
        "input.image_url",
        "http(s)",
    ),
]


@pytest.mark.parametrize(("body", "code", "reason", "phrase"), BAD_INPUTS)
def test_bad_input_is_400_naming_the_field(
    api: httpx.Client, local_server: LocalServer, body: Any, code: str, reason: str, phrase: str
) -> None:
    message = assert_error(api.post("/v1/images/generate", json=body), 400, code, reason)
    assert phrase in message
    assert local_server.jobs() == []  # nothing created, nothing charged


@pytest.mark.parametrize(
    "raw", [b"{not json", b"\xff\xfe", b"[1, 2", b"null", b"[]", b'"prompt"', b"1e999999"]
)
def test_malformed_bodies_never_crash_the_server(api: httpx.Client, raw: bytes) -> None:
    reply = api.post(
        "/v1/images/generate", content=raw, headers={"content-type": "application/json"}
    )
    assert_error(reply, 400, "invalid_input")
    assert api.get("/v1/status").status_code == 200


def test_unknown_job_and_another_tenants_job_are_404() -> None:
    with serve_local(api_key=["nv_sk_local_alice", "nv_sk_local_bob"], time_scale=0) as server:
        alice = httpx.Client(
            base_url=server.url, headers={"Authorization": "Bearer nv_sk_local_alice"}
        )
        bob = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer nv_sk_local_bob"})
        job_id = alice.post("/v1/images/generate", json={"input": {"prompt": "mine"}}).json()["id"]
        assert alice.get(f"/v1/jobs/{job_id}").status_code == 200
        for reply in (
            bob.get(f"/v1/jobs/{job_id}"),
            bob.get(f"/v1/images/{job_id}"),
            bob.delete(f"/v1/jobs/{job_id}"),
            alice.get("/v1/jobs/not-a-job"),
        ):
            assert_error(reply, 404, "resource_not_found")
        assert bob.get("/v1/jobs").json() == {"jobs": []}
        alice.close()
        bob.close()


def test_unknown_route_and_method(api: httpx.Client) -> None:
    assert_error(api.get("/v1/videos"), 404, "resource_not_found")
    assert api.put("/v1/jobs/x").status_code == 405


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/v1/jobs", {"limit": 101}, "limit"),
        ("/v1/jobs", {"limit": 0}, "limit"),
        ("/v1/jobs", {"limit": "ten"}, "limit"),
        ("/v1/jobs", {"status": "done"}, "status"),
        ("/v1/images/pricing", {"num_images": 9}, "num_images"),
        ("/v1/images/pricing", {"model": "nope"}, "model"),
        ("/v1/usage", {"days": 0}, "days"),
    ],
)
def test_bad_query_parameters(
    api: httpx.Client, path: str, params: dict[str, Any], reason: str
) -> None:
    reply = api.get(path, params=params)
    assert reply.status_code == 400
    assert reply.json()["error"]["reason"] == reason


def test_insufficient_credits_is_402_with_the_price() -> None:
    with serve_local(api_key="k", balance=0.2, time_scale=0) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"})
        body = {"model": "fal-ai/flux/dev", "input": {"prompt": "x"}}
        reply = api.post("/v1/images/generate", json=body)
        assert_error(reply, 402, "insufficient_credits")
        assert reply.json()["required_credits"] == 1.0 and reply.json()["balance"] == 0.2
        assert reply.json()["packs"]
        assert server.jobs() == []
        # a cheaper request still fits the balance
        cheap = {"model": "fal-ai/flux/schnell", "input": {"prompt": "x"}}
        assert api.post("/v1/images/generate", json=cheap).status_code == 202
        api.close()


def test_billing_blocked_and_forbidden(api: httpx.Client, local_server: LocalServer) -> None:
    local_server.faults.billing_blocked = True
    reply = api.post("/v1/images/generate", json={"input": {"prompt": "x"}})
    assert_error(reply, 402, "billing_blocked")
    assert reply.json()["block_reason"] == "trial_expired" and reply.json()["plans"]
    local_server.faults.billing_blocked = False
    local_server.faults.forbidden = True
    assert_error(api.post("/v1/images/generate", json={"input": {"prompt": "x"}}), 403, "forbidden")
    assert_error(api.get("/v1/images/models"), 403, "forbidden")
    assert api.get("/v1/status").status_code == 200  # only image routes are closed
    assert local_server.jobs() == []


def test_provider_rejection_is_502_and_creates_nothing(
    api: httpx.Client, local_server: LocalServer
) -> None:
    local_server.faults.provider_reject_rate = 1.0
    assert_error(
        api.post("/v1/images/generate", json={"input": {"prompt": "x"}}), 502, "provider_error"
    )
    assert local_server.jobs() == []


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 6)
    scalars: list[Any] = [
        None,
        True,
        rng.randint(-(2**40), 2**40),
        rng.uniform(-1e6, 1e6),
        float("nan"),
        rng.choice(["", "x", "square_hd", "png", "ü🦊", "a" * 5000, "1-4", "$HOME {x}"]),
    ]
    if kind < 6:
        return scalars[kind]
    if kind < 8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [
        "prompt",
        "seed",
        "num_images",
        "image_size",
        "width",
        "height",
        "output_format",
        "guidance_scale",
        "num_inference_steps",
        "colors",
        "style",
        "junk",
    ]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_no_input_crashes_the_server(api: httpx.Client, local_server: LocalServer) -> None:
    """500 random bodies: each is accepted or refused with a 4xx envelope, never a 5xx."""
    rng = random.Random(1234)
    models = [*(m["id"] for m in api.get("/v1/images/models").json()["models"]), "nope", None]
    for _ in range(500):
        data = _random_value(rng)
        body: Any = {"input": data} if rng.random() < 0.8 else data
        if isinstance(body, dict) and rng.random() < 0.7:
            body["model"] = rng.choice(models)
        reply = api.post(
            "/v1/images/generate",
            content=json.dumps(body, allow_nan=True).encode(),
            headers={"content-type": "application/json"},
        )
        assert reply.status_code in (202, 400, 402), (body, reply.text)
        if reply.status_code != 202:
            assert reply.json()["error"]["message"]
    assert api.get("/health").status_code == 200
