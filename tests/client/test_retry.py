from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from naive_nb.client._retry import (
    Action,
    Failure,
    Kind,
    RetryPolicy,
    decide,
    may_have_created,
    parse_retry_after,
)

NOW = 1_800_000_000.0
POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, max_retry_after=60, budget=30)


def run(failure: Failure, *, creates: bool = False, attempt: int = 1, elapsed: float = 0.0):
    return decide(
        POLICY, failure, attempt=attempt, elapsed=elapsed, creates=creates, rng=random.Random(1)
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise variant wins
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after_numbers(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


def test_parse_retry_after_http_date() -> None:
    future = format_datetime(datetime.fromtimestamp(NOW + 30, tz=timezone.utc), usegmt=True)
    past = format_datetime(datetime.fromtimestamp(NOW - 30, tz=timezone.utc), usegmt=True)
    assert parse_retry_after({"Retry-After": future}, now=NOW) == pytest.approx(30.0)
    assert parse_retry_after({"Retry-After": past}, now=NOW) == 0.0


@pytest.mark.parametrize(
    "failure",
    [
        Failure(Kind.NOT_SENT),
        Failure(Kind.LOST),
        Failure(Kind.TIMEOUT),
        Failure(Kind.RESPONSE, status=429, retry_after=1),
        Failure(Kind.RESPONSE, status=500),
        Failure(Kind.RESPONSE, status=502),
        Failure(Kind.RESPONSE, status=503),
        Failure(Kind.RESPONSE, status=504),
    ],
)
def test_reads_retry_transient_failures(failure: Failure) -> None:
    assert run(failure).action is Action.RETRY


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409])
def test_client_errors_are_final(status: int) -> None:
    decision = run(Failure(Kind.RESPONSE, status=status), creates=True)
    assert decision.action is Action.RAISE


def test_provider_rejection_is_final() -> None:
    failure = Failure(Kind.RESPONSE, status=502, code="provider_error")
    assert run(failure).action is Action.RAISE
    assert not may_have_created(failure)


@pytest.mark.parametrize(
    "failure",
    [
        Failure(Kind.NOT_SENT),
        Failure(Kind.RESPONSE, status=429, retry_after=1),
        Failure(Kind.RESPONSE, status=503, retry_after=1),
    ],
)
def test_submit_resent_only_when_nothing_was_created(failure: Failure) -> None:
    assert run(failure, creates=True).action is Action.RETRY


@pytest.mark.parametrize(
    "failure",
    [
        Failure(Kind.LOST),
        Failure(Kind.TIMEOUT),
        Failure(Kind.RESPONSE, status=500),
        Failure(Kind.RESPONSE, status=503),  # no Retry-After: it may have been processed
        Failure(Kind.RESPONSE, status=504),
    ],
)
def test_ambiguous_submit_failures_reconcile_first(failure: Failure) -> None:
    decision = run(failure, creates=True)
    assert decision.action is Action.RECONCILE
    assert may_have_created(failure)


def test_retry_after_is_honoured_exactly() -> None:
    decision = run(Failure(Kind.RESPONSE, status=429, retry_after=2.0))
    assert decision.delay == 2.0


def test_absurd_retry_after_is_not_waited_out() -> None:
    decision = run(Failure(Kind.RESPONSE, status=429, retry_after=3600))
    assert decision.action is Action.RAISE
    assert "3600" in decision.reason


def test_attempts_and_budget_are_bounded() -> None:
    assert run(Failure(Kind.LOST), attempt=5).action is Action.RAISE
    late = run(Failure(Kind.RESPONSE, status=429, retry_after=5), elapsed=26)
    assert late.action is Action.RAISE
    assert "budget" in late.reason


def test_backoff_is_full_jitter_and_capped() -> None:
    rng = random.Random(7)
    for attempt in range(1, 10):
        ceiling = min(POLICY.max_delay, POLICY.base_delay * 2 ** (attempt - 1))
        samples = [POLICY.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        # full jitter spreads over the whole range, not just near the ceiling
        assert min(samples) < 0.2 * ceiling < 0.8 * ceiling < max(samples)
