from __future__ import annotations

import builtins
import re
from collections.abc import Callable

import httpx
import pytest

from naive_nb import errors
from naive_nb.client._async import AsyncClient
from naive_nb.client._types import Price

from .conftest import FakeAPI, error, refused_401


def test_the_docstring_tree_is_the_real_hierarchy() -> None:
    assert errors.__doc__ is not None
    parents: list[tuple[int, str]] = []
    seen = set()
    known = {**vars(builtins), **vars(errors)}  # a root may be a builtin (KeyboardInterrupt)
    for line in errors.__doc__.splitlines():
        match = re.match(r"^\s*([│ ]*)(?:[├└]── )?([A-Z]\w+)\b", line)
        if not match or not isinstance(known.get(match.group(2)), type):
            continue
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        name = match.group(2)
        while parents and parents[-1][0] >= depth:
            parents.pop()
        if parents:
            assert issubclass(known[name], known[parents[-1][1]]), name
        parents.append((depth, name))
        seen.add(name)
    assert seen - set(vars(builtins)) == set(errors.__all__)


def test_every_message_says_what_to_do_next() -> None:
    cases = [
        errors.AuthenticationError("bad key", status=401, code="unauthorized"),
        errors.NotFoundError("no such job", status=404),
        errors.RateLimitError("slow down", retry_after=2),
        errors.ServerError("oops", status=500),
        errors.APIConnectionError("no reply"),
        errors.APITimeoutError("timed out"),
        errors.ValidationError("input.seed must be an integer", field="input.seed"),
        errors.JobFailed("j1", "provider exploded"),
        errors.JobCancelled("j1"),
        errors.WaitTimeout("j1", "processing", 5),
        errors.JobResultMissing("j1"),
        errors.SubmissionOutcomeUnknown("key-1", []),
        errors.InsufficientCreditsError("balance too low", price=Price("m", 2, 0.4, 0.05)),
        errors.BillingBlockedError("trial expired"),
        errors.PermissionDeniedError("images disabled"),
        errors.ConflictError("key reused"),
    ]
    verbs = ("check", "retry", "wait", "fix", "pick", "call", "submit", "buy", "renew", "use")
    for exc in cases:
        text = str(exc).lower()
        assert any(verb in text for verb in verbs), text


def test_error_details_are_kept() -> None:
    exc = errors.WaitTimeout("job-9", "queued", 3)
    assert (exc.job_id, exc.last_status) == ("job-9", "queued")
    assert "wait('job-9')" in str(exc) and "cancel('job-9')" in str(exc)
    failed = errors.JobFailed("job-1", "NSFW", code="provider_error")
    assert failed.server_message == "NSFW" and failed.job_id == "job-1"
    credits = errors.InsufficientCreditsError("low", price=Price("m", 1, 0.4, 0.05))
    assert "0.4 credits" in str(credits) and "$0.02" in str(credits)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "invalid_input", errors.ValidationError),
        (400, "invalid_model", errors.InvalidModelError),
        (401, "unauthorized", errors.AuthenticationError),
        (402, "billing_blocked", errors.BillingBlockedError),
        (403, "forbidden", errors.PermissionDeniedError),
        (404, "resource_not_found", errors.NotFoundError),
        (409, "duplicate_request", errors.ConflictError),
        # the envelope's code wins over the status
        (400, "unauthorized", errors.AuthenticationError),
        (502, "provider_error", errors.ProviderError),
        # no recognised code: the status decides
        (401, "???", errors.AuthenticationError),
        (404, "???", errors.NotFoundError),
        (418, "???", errors.APIError),
    ],
)
async def test_errors_map_code_first_then_status(
    fake_api: FakeAPI,
    mock_client: Callable[..., AsyncClient],
    status: int,
    code: str,
    expected: type,
) -> None:
    fake_api.script[("GET", "/v1/status")] = [error(status, code, "nope")]
    async with mock_client() as client:
        with pytest.raises(expected) as info:
            await client.status()
    assert type(info.value) is expected
    assert info.value.status == status


async def test_non_json_errors_map_by_status(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("GET", "/v1/status")] = [httpx.Response(403, text="<html>nope</html>")]
    async with mock_client() as client:
        with pytest.raises(errors.PermissionDeniedError, match="HTTP 403"):
            await client.status()


async def test_server_fields_are_carried(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    body = {
        "error": {
            "code": "invalid_input",
            "message": "input.foo is not allowed",
            "hint": "Drop input.foo.",
            "reason": "input.foo",
        }
    }
    fake_api.script[("GET", "/v1/status")] = [httpx.Response(400, json=body)]
    async with mock_client() as client:
        with pytest.raises(errors.ValidationError) as info:
            await client.status()
    assert info.value.field == "input.foo"
    assert info.value.hint == "Drop input.foo."
    assert str(info.value).endswith("Drop input.foo.")


async def test_insufficient_credits_reports_the_price(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.script[("POST", "/v1/images/generate")] = [
        httpx.Response(
            402,
            json={"error": {"code": "insufficient_credits", "message": "Balance too low"}},
        )
    ]
    fake_api.script[("GET", "/v1/images/pricing")] = [
        httpx.Response(
            200,
            json={
                "model": "fal-ai/flux/schnell",
                "estimated_credits": 0.24,
                "credit_value_usd": 0.05,
            },
        )
    ]
    async with mock_client() as client:
        with pytest.raises(errors.InsufficientCreditsError) as info:
            await client.submit("fal-ai/flux/schnell", {"prompt": "x", "num_images": 2})
    assert info.value.price is not None and info.value.price.estimated_credits == 0.24
    assert "0.24 credits" in str(info.value)
    assert fake_api.sent("GET", "/v1/images/pricing")[0].url.params["num_images"] == "2"


async def test_insufficient_credits_says_cost_and_balance_once_then_what_to_do(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    # the embedded server's reply: its message and hint say what our sentences say
    fake_api.script[("POST", "/v1/images/generate")] = [
        httpx.Response(
            402,
            json={
                "error": {
                    "code": "insufficient_credits",
                    "message": "This request needs 0.48 credits; the balance is 0.1.",
                    "hint": "Buy credits or lower num_images.",
                },
                "required_credits": 0.48,
                "balance": 0.1,
            },
        )
    ]
    fake_api.script[("GET", "/v1/images/pricing")] = [
        httpx.Response(200, json={"estimated_credits": 0.48, "credit_value_usd": 0.05})
    ]
    async with mock_client() as client:
        with pytest.raises(errors.InsufficientCreditsError) as info:
            await client.submit("fal-ai/flux/schnell", {"prompt": "x", "num_images": 2})
    assert str(info.value) == (
        "[402 insufficient_credits] This request costs 0.48 credits (about $0.02); the balance "
        "is 0.1. Buy credits in your Naive dashboard, or lower num_images."
    )
    assert (info.value.required, info.value.balance) == (0.48, 0.1)


@pytest.mark.parametrize(
    ("env", "args", "says", "never"),
    [
        # key and address from the environment: unsetting the key alone would send keyless
        # requests to NAIVE_BASE_URL, not start the local engine
        (
            {"NAIVE_API_KEY": "nv_sk_live_bad", "NAIVE_BASE_URL": "https://proxy.test"},
            {},
            "check NAIVE_API_KEY (a key looks like nv_sk_live_...), or unset NAIVE_API_KEY and "
            "unset NAIVE_BASE_URL to use the local preview engine",
            "unset it",
        ),
        # only an address: the server wants a key
        (
            {"NAIVE_BASE_URL": "https://proxy.test"},
            {},
            "wants a key: set NAIVE_API_KEY",
            "check NAIVE_API_KEY",
        ),
        # the key given as an argument: the environment is not the thing to check
        (
            {},
            {"api_key": "nv_sk_live_bad"},
            "The hosted API refused the key: check the api_key you passed",
            "NAIVE_API_KEY",
        ),
        (
            {"NAIVE_API_KEY": "nv_sk_live_bad"},
            {},
            "check NAIVE_API_KEY (a key looks like nv_sk_live_...), or unset NAIVE_API_KEY to "
            "use the local preview engine",
            "NAIVE_BASE_URL",
        ),
    ],
)
async def test_401_advice_matches_the_configuration(
    monkeypatch: pytest.MonkeyPatch,
    fake_api: FakeAPI,
    env: dict[str, str],
    args: dict[str, str],
    says: str,
    never: str,
) -> None:
    refused = await refused_401(monkeypatch, fake_api, env, args)
    assert says in str(refused)
    assert never not in str(refused)
