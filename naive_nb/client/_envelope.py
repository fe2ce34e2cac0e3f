"""An API error reply, or a pause not waited out, as the exception the call raises.

The error envelope's ``code`` picks the class first, the HTTP status second (the tree is drawn in
``naive_nb/errors.py``). Everything taken from a reply is scrubbed of the key before it lands on
an exception.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx

from naive_nb.client._backend import Backend, auth_advice, auth_facts, scrub
from naive_nb.client._limiter import Throttled
from naive_nb.client._retry import Kind
from naive_nb.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BillingBlockedError,
    ConflictError,
    InsufficientCreditsError,
    InvalidModelError,
    NaiveError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    ValidationError,
)

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client._transport import Failed

__all__ = ["envelope", "error_code", "error_for", "throttled"]

_BY_CODE: dict[str, type[APIError]] = {
    "invalid_input": ValidationError,
    "invalid_model": InvalidModelError,
    "unauthorized": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "billing_blocked": BillingBlockedError,
    "forbidden": PermissionDeniedError,
    "resource_not_found": NotFoundError,
    "duplicate_request": ConflictError,
    "conflict": ConflictError,
    "rate_limited": RateLimitError,
    "provider_error": ProviderError,
    "internal_error": ServerError,
}
_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def envelope(response: httpx.Response) -> dict[str, Any]:
    """The reply's ``error`` object (with the billing fields some replies put beside it)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        found: dict[str, Any] = dict(body["error"])
        for name in ("packs", "plans", "block_reason", "balance", "required_credits"):
            if name in body and name not in found:
                found[name] = body[name]
        return found
    return {}


def error_code(response: httpx.Response) -> str | None:
    code = envelope(response).get("code")
    return code if isinstance(code, str) else None


def error_for(failed: Failed, what: str, backend: Backend, **extra: Any) -> NaiveError:
    """The exception for a request that failed for good; ``what`` names it (``GET /v1/jobs``)."""
    response, failure, secret = failed.response, failed.failure, backend.key
    if response is None:
        detail = failed.detail or "no reply"
        if failure.kind is Kind.TIMEOUT:
            return APITimeoutError(f"{what} timed out ({detail})")
        return APIConnectionError(f"{what}: no reply from {backend.base_url} ({detail})")
    found = envelope(response)
    status = response.status_code
    code = found.get("code") if isinstance(found.get("code"), str) else None
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIError
    message = found.get("message")
    if not isinstance(message, str) or not message:
        message = f"{what} answered HTTP {status}"
    hint = found.get("hint") if isinstance(found.get("hint"), str) else None
    reason = found.get("reason") if isinstance(found.get("reason"), str) else None
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "hint": scrub(hint, secret) if hint else None,
        "reason": scrub(reason, secret) if reason else None,
        "body": scrub(found, secret),
        **extra,
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = failure.retry_after
    if cls is AuthenticationError:
        kwargs.update(advice=auth_advice(backend), **auth_facts(backend))
    return cls(scrub(message, secret), **kwargs)


def throttled(exc: Throttled) -> RateLimitError:
    """A pause the limiter will not wait out, as the error the call raises (nothing sent)."""
    if exc.wait is None:
        return RateLimitError(
            f"The API is rate limiting this key, and the request that tests whether it "
            f"lets requests through again did not come back within {exc.allowed:.0f} s; "
            "nothing was sent"
        )
    wait = max(1.0, float(round(exc.wait)))
    at = datetime.now(timezone.utc) + timedelta(seconds=exc.wait)
    return RateLimitError(
        f"The API's rate limit for this key lets no request through until {at:%H:%M:%S} UTC "
        f"(in {wait:.0f} s), longer than this call may wait ({exc.allowed:.0f} s); nothing "
        "was sent",
        retry_after=wait,
    )
