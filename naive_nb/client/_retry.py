"""The retry decision, written once and without I/O; both clients use it.

A failed attempt is described by a :class:`Failure` (what went wrong and whether the request can
have reached the server), and :func:`decide` answers: retry after some delay, reconcile first (a
submit whose outcome is unknown), or give up. Time and randomness come in as arguments, so the
policy is tested with a fake clock.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = [
    "Action",
    "Decision",
    "Failure",
    "Kind",
    "RetryPolicy",
    "decide",
    "may_have_created",
    "parse_retry_after",
]


class Kind(enum.Enum):
    NOT_SENT = "not_sent"  # the connection was never made: the server saw nothing
    LOST = "lost"  # the request may have reached the server, no reply came back
    TIMEOUT = "timeout"  # like LOST, but a read timeout
    RESPONSE = "response"  # an HTTP reply with an error status


@dataclass(frozen=True)
class Failure:
    kind: Kind
    status: int | None = None
    code: str | None = None  # the error envelope's code, when there was one
    retry_after: float | None = None  # seconds, already parsed


class Action(enum.Enum):
    RETRY = "retry"
    RECONCILE = "reconcile"  # a creating request may have created something: look before resending
    RAISE = "raise"


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a call tries.

    ``budget`` bounds the total time one call spends waiting between attempts; a ``Retry-After``
    longer than ``max_retry_after`` is not waited out (the error says how long to wait instead).
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    budget: float = 90.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return rng.uniform(0.0, ceiling)


RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def decide(
    policy: RetryPolicy,
    failure: Failure,
    *,
    attempt: int,
    elapsed: float,
    creates: bool,
    rng: random.Random,
) -> Decision:
    """What to do after attempt number ``attempt`` (1-based) failed, ``elapsed`` s into the call.

    ``creates`` marks a request that can create a paid job (a submit). Such a request is resent
    only when nothing can have been created (connection never made, 429, 503 with Retry-After);
    when it may have been created, the answer is RECONCILE: look for the job before resending.
    """
    if failure.kind is Kind.RESPONSE and failure.status not in RETRYABLE_STATUS:
        return Decision(Action.RAISE, reason=f"status {failure.status} is final")
    if failure.status == 502 and failure.code == "provider_error":
        # The provider refused the parameters; the same request will be refused again.
        return Decision(Action.RAISE, reason="provider rejected the request")
    if attempt >= policy.max_attempts:
        return Decision(Action.RAISE, reason=f"gave up after {attempt} attempts")

    retry_after = failure.retry_after
    if retry_after is not None and retry_after > policy.max_retry_after:
        return Decision(Action.RAISE, reason=f"server asked for a {retry_after:g} s pause")
    delay = retry_after if retry_after is not None else policy.backoff(attempt, rng)
    if elapsed + delay > policy.budget:
        return Decision(Action.RAISE, reason=f"retry budget of {policy.budget:g} s spent")

    if creates and may_have_created(failure):
        return Decision(Action.RECONCILE, delay=delay, reason=_describe(failure))
    return Decision(Action.RETRY, delay=delay, reason=_describe(failure))


def may_have_created(failure: Failure) -> bool:
    """Could the failed request have created something on the server?"""
    if failure.kind is Kind.NOT_SENT:
        return False
    if failure.kind is Kind.RESPONSE:
        status = failure.status or 0
        if status < 500:
            return False  # a 4xx (429 included) is a refusal: nothing was created
        if status == 503 and failure.retry_after is not None:
            return False  # "come back later": the request was turned away, not processed
        if status == 502 and failure.code == "provider_error":
            return False  # the provider refused the parameters before any job existed
    return True


def _describe(failure: Failure) -> str:
    if failure.kind is Kind.RESPONSE:
        return f"status {failure.status}"
    return {Kind.NOT_SENT: "connection failed", Kind.LOST: "no reply", Kind.TIMEOUT: "timed out"}[
        failure.kind
    ]


def parse_retry_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP-date.

    ``now`` is the current Unix time (for HTTP-dates). Unparseable or negative values give None;
    a date in the past gives 0. Header names are matched case-insensitively.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        ms = _finite(raw_ms)
        if ms is not None and ms >= 0:
            return ms / 1000.0
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _finite(raw)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons return None instead of raising
        return None
    return max(0.0, when.timestamp() - now)


def _finite(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None
