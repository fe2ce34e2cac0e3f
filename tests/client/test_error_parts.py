"""Every client error keeps its parts apart (summary, advice, fields), so a front end words its own
message without cutting ``str(error)`` apart; ``str(error)`` stays what a Python user reads."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from naive_nb import errors
from naive_nb.client import _types, _validation
from naive_nb.client._async import AsyncClient
from naive_nb.client._types import Job, Price, check_job_id
from naive_nb.client._validation import (
    DOCUMENTED_MODELS,
    documented_model,
    validate_input,
    validate_job_filter,
    validate_model,
    validate_num_images,
    validate_values,
)

from .conftest import FakeAPI, refused_401

SCHNELL = "fal-ai/flux/schnell"


def _every_error() -> list[errors.NaiveError]:
    job = Job.from_api({"id": "j-1", "status": "queued"})
    return [
        errors.APIError("teapot", status=418),
        errors.APIError("x"),
        errors.ValidationError("input.foo is not allowed", status=400, code="invalid_input"),
        errors.ValidationError("bad", status=400, code="invalid_input", hint="Drop input.foo."),
        errors.ValidationError("input.seed must be an integer", field="input.seed"),
        errors.InvalidModelError("Unknown model 'x'. Allowed: a", field="model"),
        errors.AuthenticationError("Invalid API key.", status=401, code="unauthorized"),
        errors.AuthenticationError("no", status=401, code="unauthorized", advice="Check it."),
        errors.PaymentRequiredError("pay", status=402),
        errors.InsufficientCreditsError("low", price=Price("m", 2, 0.4, 0.05)),
        errors.InsufficientCreditsError("Balance too low", status=402, code="x", hint="Buy."),
        errors.BillingBlockedError("trial expired", body={"block_reason": "trial_expired"}),
        errors.PermissionDeniedError("images disabled", status=403, code="forbidden"),
        errors.NotFoundError("no such job", status=404, hint="Check the id."),
        errors.NotFoundError("gone", status=404, advice="Fetch it again.", url="u", job_id="j"),
        errors.ConflictError("key reused", status=409, code="duplicate_request"),
        errors.RateLimitError("slow down", retry_after=2),
        errors.RateLimitError("slow down", status=429, code="rate_limited", hint="Wait."),
        errors.ServerError("oops.", status=500, hint="Retry later."),
        errors.ProviderError("rejected", status=502, code="provider_error"),
        errors.APIConnectionError("no reply."),
        errors.APITimeoutError("GET /v1/jobs timed out (ReadTimeout)"),
        errors.JobFailed("j-1", "provider exploded.", code="provider_error", job=job),
        errors.JobCancelled("j-1"),
        errors.JobResultMissing("j-1"),
        errors.WaitTimeout("j-1", "processing", 5),
        errors.SubmissionOutcomeUnknown("key-1", [job], "the job list ran out"),
        errors.SubmissionOutcomeUnknown("key-1", []),
    ]


def _prefix(error: errors.NaiveError) -> str:
    status, code = getattr(error, "status", None), getattr(error, "code", None)
    if isinstance(error, errors.APIError) and status:
        return f"[{status} {code}] " if code else f"[{status}] "
    return ""


@pytest.mark.parametrize("exc", _every_error(), ids=lambda e: type(e).__name__)
def test_the_message_is_its_parts_and_nothing_else(exc: errors.NaiveError) -> None:
    assert exc.summary and exc.advice  # every error says what happened, and what to do
    assert exc.advice not in exc.summary  # the summary keeps no advice
    joined = exc.summary if exc.summary.endswith(".") else exc.summary + "."
    assert str(exc) == exc.message == f"{_prefix(exc)}{joined} {exc.advice}"


def test_the_servers_hint_is_the_advice_unless_the_client_knows_better() -> None:
    server = errors.ValidationError("x", status=400, code="invalid_input", hint="Drop input.foo.")
    assert (server.summary, server.advice) == ("x", "Drop input.foo.")
    # a 401's advice is the client's own (it knows where its key came from)
    auth = errors.AuthenticationError(
        "bad", status=401, code="unauthorized", hint="Send a key.", advice="Check the key."
    )
    assert (auth.summary, auth.advice, auth.hint) == ("bad", "Check the key.", "Send a key.")
    # a summary that already says the advice does not say it twice
    said = errors.ServerError("Retry later.", status=500, hint="Retry later.")
    assert (said.summary, said.advice, str(said)) == ("Retry later.", "", "[500] Retry later.")


def test_a_job_error_keeps_its_facts_apart_from_its_words() -> None:
    failed = errors.JobFailed("j-1", "could not render.", code="provider_error")
    assert failed.summary == "Job j-1 failed: could not render."
    assert (failed.server_message, failed.code, failed.job_id) == (
        "could not render.",
        "provider_error",
        "j-1",
    )
    late = errors.WaitTimeout("j-2", "queued", 2.5)
    assert (late.job_id, late.last_status, late.timeout) == ("j-2", "queued", 2.5)
    assert late.summary == "Job j-2 is still queued after 2.5 s."
    assert "wait('j-2')" in late.advice and "wait(" not in late.summary
    unknown = errors.SubmissionOutcomeUnknown("k-1", [], "lost")
    assert unknown.detail == "lost" and "client.get" in unknown.advice
    assert "client." not in unknown.summary


def _refusal(check: Callable[..., Any], *args: Any) -> errors.ValidationError:
    with pytest.raises(errors.ValidationError) as caught:
        check(*args)
    return caught.value


SCHNELL_INFO = documented_model(SCHNELL)
RECRAFT_INFO = documented_model("fal-ai/recraft-v3")
REDUX_INFO = documented_model("fal-ai/flux-pro/v1.1/redux")
assert SCHNELL_INFO and RECRAFT_INFO and REDUX_INFO


@pytest.mark.parametrize(
    ("check", "args", "parts"),
    [
        (
            validate_values,
            (SCHNELL, {"num_inference_steps": 20}),
            ("input.num_inference_steps", "integer", (1, 12), 20, SCHNELL),
        ),
        (validate_values, (SCHNELL, {"seed": -1}), ("input.seed", "integer", (0, 2**32 - 1), -1)),
        (validate_values, (SCHNELL, {"guidance_scale": 21}), ("input.guidance_scale", "number")),
        (
            validate_values,
            (SCHNELL, {"output_format": "gif"}),
            ("input.output_format", "choice", ["jpeg", "png"], "gif", None),
        ),
        (
            validate_values,
            (SCHNELL, {"enable_safety_checker": "no"}),
            ("input.enable_safety_checker", "boolean", None, "no"),
        ),
        (validate_values, (SCHNELL, {"prompt": " "}), ("input.prompt", "text", None, " ")),
        (validate_values, (SCHNELL, {"prompt": "x" * 4001}), ("input.prompt", "max_length", 4000)),
        (
            validate_values,
            (SCHNELL, {"image_size": {"width": 500, "height": 512}}),
            ("input.image_size", "image_size", list(_validation.IMAGE_SIZES)),
        ),
        (validate_values, (SCHNELL, {"image_url": "ftp://x"}), ("input.image_url", "url")),
        (validate_values, (SCHNELL, {"colors": 3}), ("input.colors", "colors", None, 3)),
        (
            validate_input,
            (RECRAFT_INFO, {"prompt": "a", "num_images": 3}),
            (
                "input.num_images",
                "not_taken",
                ["prompt", "image_size", "style", "colors"],
                3,
                "fal-ai/recraft-v3",
            ),
        ),
        (
            validate_input,
            (REDUX_INFO, {"prompt": "a"}),
            ("input.image_url", "required", None, None, "fal-ai/flux-pro/v1.1/redux"),
        ),
        (
            validate_model,
            ("acme/x", DOCUMENTED_MODELS[:2]),
            ("model", "unknown_model", [SCHNELL, "fal-ai/flux/dev"], "acme/x"),
        ),
        (validate_job_filter, ("nope", 20), ("status", "choice")),
        (validate_job_filter, (None, 0), ("limit", "integer", (1, 100), 0)),
        (validate_num_images, (9,), ("num_images", "integer", (1, 4), 9)),
        (check_job_id, ("a/b",), ("job_id", "job_id", None, "a/b")),
    ],
)
def test_a_refusal_names_its_field_rule_allowed_value_and_model(
    check: Callable[..., Any], args: tuple[Any, ...], parts: tuple[Any, ...]
) -> None:
    refused = _refusal(check, *args)
    got = (refused.field, refused.rule, refused.allowed, refused.value, refused.model)
    assert got[: len(parts)] == parts
    assert refused.status is None  # refused before sending
    assert refused.advice and refused.advice not in refused.summary


def _rules_raised() -> set[str]:
    """Every ``rule`` the validator's source passes (to ``_bad``, or as ``rule=``)."""
    rules = set()
    for module in (_validation, _types):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None)
            if name == "_bad" and len(node.args) >= 3:
                for value in ast.walk(node.args[2]):
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        rules.add(value.value)
            for keyword in node.keywords:
                if keyword.arg == "rule" and isinstance(keyword.value, ast.Constant):
                    rules.add(keyword.value.value)
    return rules


def test_every_rule_the_validator_raises_is_documented() -> None:
    rules = _rules_raised()
    assert {"integer", "number", "not_taken", "required", "unknown_model", "job_id"} <= rules
    documented = errors.ValidationError.__doc__ or ""
    assert all(f'"{rule}"' in documented for rule in rules), rules


@pytest.mark.parametrize(
    ("env", "args", "facts"),
    [
        (
            {"NAIVE_API_KEY": "nv_sk_live_bad", "NAIVE_BASE_URL": "https://proxy.test"},
            {},
            ("custom", "https://proxy.test", "env", "env", ("NAIVE_API_KEY", "NAIVE_BASE_URL")),
        ),
        (
            {"NAIVE_BASE_URL": "https://proxy.test"},
            {},
            ("custom", "https://proxy.test", "", "env", ("NAIVE_BASE_URL",)),
        ),
        (
            {},
            {"api_key": "nv_sk_live_bad"},
            ("hosted", "https://api.usenaive.ai", "argument", "", ("api_key",)),
        ),
        (
            {"NAIVE_API_KEY": "nv_sk_live_bad"},
            {"base_url": "https://proxy.test"},
            ("custom", "https://proxy.test", "env", "argument", ("NAIVE_API_KEY", "base_url")),
        ),
    ],
)
async def test_a_401_says_where_the_key_and_the_address_came_from(
    monkeypatch: pytest.MonkeyPatch,
    fake_api: FakeAPI,
    env: dict[str, str],
    args: dict[str, str],
    facts: tuple[Any, ...],
) -> None:
    refused = await refused_401(monkeypatch, fake_api, env, args)
    got = (refused.backend, refused.base_url, refused.key_from, refused.url_from)
    assert (*got, refused.to_go_local) == facts
    assert refused.summary == "Invalid API key."
    assert str(refused).endswith(refused.advice) and "nv_sk_live_bad" not in str(refused)


async def test_a_gone_result_file_names_its_job_and_url(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        done = await client.wait(await client.submit(SCHNELL, {"prompt": "a"}))
        gone = done.media_urls[0]
        fake_api.script[("GET", gone.split("files.example", 1)[1])] = [httpx.Response(404)]
        with pytest.raises(errors.NotFoundError) as info:
            await client.download(done)
    assert (info.value.url, info.value.job_id) == (gone, done.id)
    assert info.value.hint is None  # the advice is the client's, not a server's hint
    assert "client.get(job_id)" in info.value.advice


async def test_downloading_a_running_job_names_it(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    fake_api.polls_until_done = 99
    async with mock_client() as client:
        job = await client.submit(SCHNELL, {"prompt": "a"})
        with pytest.raises(errors.ConflictError) as info:
            await client.download(job.id)
    assert info.value.job_id == job.id and info.value.hint is None
    assert str(info.value) == (
        f"job {job.id} is still queued. Wait for it first: client.wait({job.id!r})."
    )
