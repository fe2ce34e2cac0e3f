"""Errors raised by the naive-nb client.

Every exception derives from :class:`NaiveError`, and every message ends with what to do next.
HTTP errors are mapped from the error envelope's ``code`` first and the status second::

    NaiveError
    ├── APIError                      an HTTP reply with an error envelope (.status, .code, .hint)
    │   ├── ValidationError           400 invalid_input, or refused before sending (.field)
    │   │   └── InvalidModelError     400 invalid_model, or a model id not in the catalog
    │   ├── AuthenticationError       401 unauthorized
    │   ├── PaymentRequiredError      402
    │   │   ├── InsufficientCreditsError   insufficient_credits (.price, .required, .balance)
    │   │   └── BillingBlockedError        billing_blocked (.block_reason)
    │   ├── PermissionDeniedError     403 forbidden
    │   ├── NotFoundError             404 resource_not_found
    │   ├── ConflictError             409 duplicate_request / conflict
    │   ├── RateLimitError            429 rate_limited (.retry_after)
    │   └── ServerError               5xx internal_error
    │       └── ProviderError         502 provider_error
    ├── APIConnectionError            no HTTP reply at all
    │   └── APITimeoutError           the request timed out
    ├── JobError                      a job ended badly (.job_id, .job)
    │   ├── JobFailed                 status "failed" (.message, .code)
    │   ├── JobCancelled              status "cancelled"
    │   ├── JobResultMissing          status "completed", but its full record lists no images
    │   └── WaitTimeout               the wait deadline passed (.last_status)
    └── SubmissionOutcomeUnknown      a submit may or may not have created a job
                                      (.idempotency_key, .candidates)

    KeyboardInterrupt
    └── Interrupted                   Ctrl-C during a submit, or a wait that generate started:
                                      what became of the job (.outcome, .job_id, ...)

The API key never appears in any message: the client scrubs it from everything it raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client._types import Job, Price

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BillingBlockedError",
    "ConflictError",
    "InsufficientCreditsError",
    "Interrupted",
    "InvalidModelError",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobResultMissing",
    "NaiveError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProviderError",
    "RateLimitError",
    "ServerError",
    "SubmissionOutcomeUnknown",
    "ValidationError",
    "WaitTimeout",
]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class NaiveError(Exception):
    """Base class of every naive-nb client error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class APIError(NaiveError):
    """The API answered with an error. ``next_step`` is appended when the server gave no hint."""

    next_step = "Retry later; if it persists, report it with the request details."
    #: True where the client's advice beats the server's generic hint (e.g. which variable to set)
    own_advice_first = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
        reason: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        advice = self.next_step if self.own_advice_first or not hint else hint
        text = message.rstrip()
        if advice and advice not in text:
            text = f"{text}{'' if text.endswith('.') else '.'} {advice}"
        prefix = f"[{status} {code}] " if status and code else (f"[{status}] " if status else "")
        super().__init__(prefix + text)
        self.status = status
        self.code = code
        self.hint = hint
        self.reason = reason
        self.body = body or {}


class ValidationError(APIError):
    """Input the API refuses (or would refuse): ``field`` names it, ``allowed`` lists what fits."""

    next_step = "Fix the named field; `client.models()` lists what each model accepts."

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        allowed: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.field = field if field is not None else kwargs.get("reason")
        self.allowed = allowed


class InvalidModelError(ValidationError):
    next_step = "Pick a model id from `client.models()`."


class AuthenticationError(APIError):
    """401. ``advice`` (from the client, which knows where its key and address came from)
    replaces the generic next step."""

    own_advice_first = True
    next_step = "Check NAIVE_API_KEY (a key looks like nv_sk_live_...)."

    def __init__(self, message: str, *, advice: str | None = None, **kwargs: Any) -> None:
        if advice:
            self.next_step = advice
        super().__init__(message, **kwargs)


class PaymentRequiredError(APIError):
    next_step = "Top up credits or check the plan in your Naive dashboard."


class InsufficientCreditsError(PaymentRequiredError):
    """The balance is below the request's estimated cost. ``price`` is what it would cost,
    ``required`` the credits it needs and ``balance`` what the account has (when known).

    The message is one sentence of cost and balance and one of what to do (the server's own
    message and hint say the same things in other words, so they are replaced when the figures
    are known)."""

    own_advice_first = True
    next_step = "Buy credits in your Naive dashboard, or lower num_images."

    def __init__(self, message: str, *, price: Price | None = None, **kwargs: Any) -> None:
        body = kwargs.get("body") or {}
        required = _number(body.get("required_credits"))
        if required is None and price is not None:
            required = price.estimated_credits
        balance = _number(body.get("balance"))
        if required is not None:
            message = f"This request costs {required:g} credits"
            value = price.credit_value_usd if price is not None else None
            if value is not None:
                message += f" (about ${required * value:.2f})"
            message += f"; the balance is {balance:g}." if balance is not None else "."
        super().__init__(message, **kwargs)
        self.price = price
        self.required = required
        self.balance = balance


class BillingBlockedError(PaymentRequiredError):
    next_step = "Renew the subscription or pick a plan in your Naive dashboard."

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        block = self.body.get("block_reason")
        self.block_reason: str | None = block if isinstance(block, str) else None


class PermissionDeniedError(APIError):
    next_step = "This key may not use this feature; check its permissions in your Naive dashboard."


class NotFoundError(APIError):
    next_step = "Check the id; `client.jobs()` lists recent jobs."


class ConflictError(APIError):
    next_step = "Use a new idempotency key for a different request, or fetch the job with get()."


class RateLimitError(APIError):
    """Too many requests. ``retry_after`` is the server's pause in seconds, when it gave one."""

    own_advice_first = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.next_step = (
            f"Wait {retry_after:g} s and try again, or send fewer requests."
            if retry_after is not None
            else "Wait a minute and try again, or send fewer requests."
        )
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    next_step = "This is on the server's side; retry in a minute."


class ProviderError(ServerError):
    next_step = "Check the parameters against `client.models()`, then retry."


class APIConnectionError(NaiveError):
    """No HTTP reply came back (connection refused, reset, DNS, TLS...)."""

    next_step = "Check the network and NAIVE_BASE_URL, then retry."

    def __init__(self, message: str) -> None:
        super().__init__(f"{message.rstrip('.')}. {self.next_step}")


class APITimeoutError(APIConnectionError):
    next_step = "The server was slow to answer; retry, or raise the client's timeout."


class JobError(NaiveError):
    """A job did not end with a usable result (failed, cancelled, no images, or not yet)."""

    def __init__(self, message: str, *, job_id: str, job: Job | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.job = job


class JobFailed(JobError):
    def __init__(
        self, job_id: str, message: str, *, code: str | None = None, job: Job | None = None
    ) -> None:
        text = f"Job {job_id} failed: {message.rstrip('.')}. Failed jobs are not charged; "
        text += "check the input against `client.models()` or retry with another seed."
        super().__init__(text, job_id=job_id, job=job)
        self.server_message = message
        self.code = code


class JobCancelled(JobError):
    def __init__(self, job_id: str, *, job: Job | None = None) -> None:
        super().__init__(
            f"Job {job_id} was cancelled (not charged). Submit it again to get a result.",
            job_id=job_id,
            job=job,
        )


class JobResultMissing(JobError):
    """The job's full record says ``completed`` but names no images.

    Raised instead of returning a result of no images: the job may well have been charged, so
    its id is kept for a later look rather than reported as done.
    """

    def __init__(self, job_id: str, *, job: Job | None = None) -> None:
        super().__init__(
            f"Job {job_id} completed (and may have been charged), but the API's record of it "
            f"lists no images. Retry client.download({job_id!r}) in a moment; if it still "
            "lists none, report the job id to the API's support.",
            job_id=job_id,
            job=job,
        )


class WaitTimeout(JobError):
    def __init__(
        self, job_id: str, last_status: str, timeout: float, *, job: Job | None = None
    ) -> None:
        super().__init__(
            f"Job {job_id} is still {last_status} after {timeout:g} s. It keeps running on the "
            f"server: call wait({job_id!r}) again to collect it, or cancel({job_id!r}).",
            job_id=job_id,
            job=job,
        )
        self.last_status = last_status
        self.timeout = timeout


class SubmissionOutcomeUnknown(NaiveError):
    """A submit went out and no answer came back, and the job list could not settle it.

    The job may exist (and may be charged when it completes). ``candidates`` are recent jobs that
    could be it; re-submitting blindly could pay twice.
    """

    def __init__(self, idempotency_key: str, candidates: list[Job], detail: str = "") -> None:
        ids = ", ".join(job.id for job in candidates[:5]) or "none found"
        more = f" (+{len(candidates) - 5} more)" if len(candidates) > 5 else ""
        text = (
            f"The submit with idempotency key {idempotency_key} may or may not have created a job"
            f"{' (' + detail + ')' if detail else ''}. Candidate jobs: {ids}{more}. "
            "Check them with client.get(id) / client.jobs() before submitting again, or "
            "resubmit with the same idempotency_key so a server that honours it cannot create "
            "a second job."
        )
        super().__init__(text)
        self.idempotency_key = idempotency_key
        self.candidates = candidates


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or task cancellation) during a submit, or during a wait that ``generate`` started.

    Still a ``KeyboardInterrupt``, so it stops whatever called the client; its fields say what
    became of the job, so a caller (the notebook layer) can journal and word it without parsing
    the message. ``outcome`` is one of :attr:`OUTCOMES`.
    """

    OUTCOMES = (
        "cancelled",  # the job was cancelled on the server (it may still finish if it started)
        "already_finished",  # it had finished: nothing to cancel, collect it
        "cancel_failed",  # the DELETE failed: it may still run and be charged
        "not_sent",  # interrupted before the submit went out: no job
        "not_created",  # the job list shows no job for the submit's idempotency key
        "unknown",  # could not tell whether the submit created a job (see candidates)
    )

    def __init__(
        self,
        message: str,
        *,
        outcome: str,
        job_id: str | None = None,
        idempotency_key: str | None = None,
        candidates: tuple[str, ...] = (),
    ) -> None:
        if outcome not in self.OUTCOMES:
            raise ValueError(f"outcome must be one of {self.OUTCOMES}, got {outcome!r}")
        super().__init__(message)
        self.outcome = outcome
        self.job_id = job_id
        self.idempotency_key = idempotency_key
        self.candidates = candidates
