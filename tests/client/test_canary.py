"""A canary key must be absent from everything the client prints, logs or raises."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.errors import NaiveError
from naive_nb.local import LocalServer

from ..conftest import CANARY_KEY
from .conftest import FakeAPI


def everything_about(exc: BaseException) -> str:
    """str, repr, attributes, and the traceback with every frame's locals."""
    parts = [str(exc), repr(exc), repr(vars(exc))]
    parts += traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    return "".join(parts)


def test_canary_key_never_leaks(
    local_server: LocalServer,
    make_client: Callable[..., Client],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore debug logs included
    seen: list[str] = []
    client = make_client(retry=RetryPolicy(max_attempts=3, base_delay=0.01, budget=5))
    result = client.generate("canary", num_images=2)
    seen += [repr(client), str(client), repr(result), repr(result.job), repr(client.async_client)]
    seen.append(repr(vars(client.async_client)))

    faults = local_server.faults
    attempts: list[Callable[[], object]] = [
        lambda: client.get("00000000-0000-0000-0000-000000000000"),
        lambda: client.generate("x", num_inference_steps=99),
        lambda: client.generate("will [fail]"),
        lambda: client.wait(client.submit("fal-ai/flux/dev", {"prompt": "s"}), timeout=0.001),
    ]
    for attempt in attempts:
        with pytest.raises(NaiveError) as info:
            attempt()
        seen.append(everything_about(info.value))

    faults.error_rate = 1.0
    with pytest.raises(NaiveError) as info:
        client.status()
    seen.append(everything_about(info.value))
    faults.error_rate = 0.0
    faults.idempotency = False
    faults.drop_after_create_rate = 1.0
    with pytest.raises(NaiveError) as info:
        client.submit("fal-ai/flux/schnell", {"prompt": "lost"})
    seen.append(everything_about(info.value))
    faults.drop_after_create_rate = 0.0
    faults.rate_limit_burst, faults.burst_retry_after = 1, 600
    with pytest.raises(NaiveError) as info:
        client.status()
    seen.append(everything_about(info.value))

    with Client(
        CANARY_KEY, base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=1)
    ) as dead:
        with pytest.raises(NaiveError) as info:
            dead.models()
        seen.append(everything_about(info.value) + repr(dead))

    out = capsys.readouterr()
    seen += [out.out, out.err, caplog.text]
    seen += [record.getMessage() + repr(record.args) for record in caplog.records]
    assert len(caplog.records) > 10  # the logs really were captured
    leaks = [text for text in seen if CANARY_KEY in text]
    assert leaks == []


def echo_the_key(fake_api: FakeAPI) -> None:
    body = {
        "error": {
            "code": "unauthorized",
            "message": f"key {CANARY_KEY} is revoked",
            "hint": f"rotate {CANARY_KEY}",
            "reason": CANARY_KEY,
        }
    }
    fake_api.script[("GET", "/v1/status")] = [httpx.Response(401, json=body)]
    fake_api.script[("GET", "/v1/usage")] = [httpx.ConnectError(f"proxy said {CANARY_KEY}")]


async def test_a_key_echoed_by_the_server_is_scrubbed(fake_api: FakeAPI) -> None:
    echo_the_key(fake_api)
    client = AsyncClient(
        CANARY_KEY,
        base_url="https://api.test",
        transport=httpx.MockTransport(fake_api),
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        for call in (client.status, client.usage):
            with pytest.raises(NaiveError) as info:
                await call()
            text = everything_about(info.value)
            assert CANARY_KEY not in text and "***" in text
