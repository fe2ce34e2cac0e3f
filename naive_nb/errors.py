"""Errors raised by the naive-nb client.

Every exception derives from :class:`NaiveError`, and every message ends with what to do next.
A front end that words errors itself never cuts a message apart: each error also keeps its parts,
``summary`` (what happened, no advice) and ``advice`` (the next step in the Python API's terms, or
the server's hint), and the fields of its class. HTTP errors are mapped from the error envelope's
``code`` first and the status second::

    NaiveError
    ├── APIError                      an HTTP reply with an error envelope (.status, .code, .hint)
    │   ├── ValidationError           400 invalid_input, or refused before sending
    │   │   │                         (.field, .rule, .allowed, .value, .model)
    │   │   └── InvalidModelError     400 invalid_model, or a model id not in the catalog
    │   ├── AuthenticationError       401 unauthorized (.backend, .key_from, .to_go_local...)
    │   ├── PaymentRequiredError      402
    │   │   ├── InsufficientCreditsError   insufficient_credits (.price, .required, .balance)
    │   │   └── BillingBlockedError        billing_blocked (.block_reason)
    │   ├── PermissionDeniedError     403 forbidden
    │   ├── NotFoundError             404 resource_not_found (.url, .job_id: a result file gone)
    │   ├── ConflictError             409 duplicate_request / conflict (.job_id)
    │   ├── RateLimitError            429 rate_limited (.retry_after)
    │   └── ServerError               5xx internal_error
    │       └── ProviderError         502 provider_error
    ├── APIConnectionError            no HTTP reply at all
    │   └── APITimeoutError           the request timed out
    ├── JobError                      a job ended badly (.job_id, .job)
    │   ├── JobFailed                 status "failed" (.server_message, .code)
    │   ├── JobCancelled              status "cancelled"
    │   ├── JobResultMissing          status "completed", but its full record lists no images
    │   └── WaitTimeout               the wait deadline passed (.last_status, .timeout)
    └── SubmissionOutcomeUnknown      a submit may or may not have created a job
                                      (.idempotency_key, .candidates, .detail)

    KeyboardInterrupt
    └── Interrupted                   Ctrl-C during a submit, or a wait that generate started:
                                      what became of the job (.outcome, .job_id, ...)

The API key never appears in any message: the client scrubs it from everything it raises.

(Over 400 lines: one small class per way a call can fail, each keeping the fields a front end
words its message from; none does more than build its message and keep them.)
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


def _joined(summary: str, advice: str) -> str:
    """``summary`` then ``advice``, with one full stop between them."""
    if not advice:
        return summary
    return f"{summary}{'' if summary.endswith('.') else '.'} {advice}"


class NaiveError(Exception):
    """Base class of every naive-nb client error.

    ``str(error)`` (also ``.message``) is what a Python user reads: ``summary`` (what happened,
    no advice) followed by ``advice`` (what to do next, in the Python API's terms; "" when there
    is none). A front end words its own message from these parts and the class's fields.
    """

    def __init__(self, message: str, *, summary: str | None = None, advice: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.summary = message if summary is None else summary
        self.advice = advice

    def __str__(self) -> str:
        return self.message


class APIError(NaiveError):
    """The API answered with an error: ``[status code] summary advice``.

    ``advice`` is the server's ``hint`` when it gave one, else the client's own next step
    (``next_step``, or the ``advice`` passed in); classes with ``own_advice_first`` put the
    client's first (it knows, e.g., which variable to set). ``advice`` is "" when the summary
    already says it.
    """

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
        advice: str | None = None,
    ) -> None:
        if advice:
            self.next_step = advice
        chosen = self.next_step if self.own_advice_first or not hint else hint
        summary = message.rstrip()
        shown = chosen if chosen and chosen not in summary else ""
        prefix = f"[{status} {code}] " if status and code else (f"[{status}] " if status else "")
        super().__init__(prefix + _joined(summary, shown), summary=summary, advice=shown)
        self.status = status
        self.code = code
        self.hint = hint
        self.reason = reason
        self.body = body or {}


class ValidationError(APIError):
    """Input the API refuses (or would refuse): ``field`` names it, ``allowed`` says what fits.

    Refused before sending (``status`` None), it also says which ``rule`` the ``value`` broke, so
    a front end can word it in its own terms (``model`` is set where the rule is that model's):

    - ``"not_taken"`` (``allowed``: the keys the model takes), ``"required"``,
      ``"unknown_model"`` (``allowed``: the catalog's ids);
    - ``"integer"``, ``"number"`` (``allowed``: ``(low, high)``), ``"choice"``, ``"max_length"``
      (``allowed``: the most characters), ``"image_size"`` (``allowed``: the presets);
    - ``"text"``, ``"boolean"``, ``"url"``, ``"colors"``, ``"job_id"``, ``"input"``.

    A refusal from the server has ``rule`` None (its ``reason`` names the field, when it does).
    """

    next_step = "Fix the named field; `client.models()` lists what each model accepts."

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        allowed: Any = None,
        rule: str | None = None,
        value: Any = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.field = field if field is not None else kwargs.get("reason")
        self.allowed = allowed
        self.rule = rule
        self.value = value
        self.model = model


class InvalidModelError(ValidationError):
    next_step = "Pick a model id from `client.models()`."


class AuthenticationError(APIError):
    """401. The client knows where its key and address came from, so its ``advice`` fits this
    configuration; a front end words its own from the same facts: ``backend`` (``"hosted"``,
    ``"custom"``, ``"local preview engine"``) and ``base_url``; ``key_from`` and ``url_from``
    (``"argument"``, ``"env"``, or ``""``: not given); ``to_go_local``, the settings between this
    client and the local preview engine (of ``"api_key"``, ``"NAIVE_API_KEY"``, ``"base_url"``,
    ``"NAIVE_BASE_URL"``).
    """

    own_advice_first = True
    next_step = "Check NAIVE_API_KEY (a key looks like nv_sk_live_...)."

    def __init__(
        self,
        message: str,
        *,
        backend: str | None = None,
        base_url: str | None = None,
        key_from: str = "",
        url_from: str = "",
        to_go_local: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.backend = backend
        self.base_url = base_url
        self.key_from = key_from
        self.url_from = url_from
        self.to_go_local = to_go_local


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
    """404: no such job (or route). ``url`` is set when a result file is gone (result URLs
    expire), with ``job_id`` the job it belongs to."""

    next_step = "Check the id; `client.jobs()` lists recent jobs."

    def __init__(
        self, message: str, *, url: str | None = None, job_id: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.url = url
        self.job_id = job_id


class ConflictError(APIError):
    """409. ``job_id`` is set when the conflict is a job's state (downloading one still
    running)."""

    next_step = "Use a new idempotency key for a different request, or fetch the job with get()."

    def __init__(self, message: str, *, job_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.job_id = job_id


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
        summary = f"{message.rstrip('.')}."
        super().__init__(_joined(summary, self.next_step), summary=summary, advice=self.next_step)


class APITimeoutError(APIConnectionError):
    next_step = "The server was slow to answer; retry, or raise the client's timeout."


class JobError(NaiveError):
    """A job did not end with a usable result (failed, cancelled, no images, or not yet)."""

    def __init__(
        self,
        message: str,
        *,
        job_id: str,
        job: Job | None = None,
        summary: str | None = None,
        advice: str = "",
    ) -> None:
        super().__init__(message, summary=summary, advice=advice)
        self.job_id = job_id
        self.job = job


class JobFailed(JobError):
    """``server_message`` is the job's own error message, ``code`` its error code."""

    def __init__(
        self, job_id: str, message: str, *, code: str | None = None, job: Job | None = None
    ) -> None:
        summary = f"Job {job_id} failed: {message.rstrip('.')}."
        advice = (
            "Failed jobs are not charged; check the input against `client.models()` or retry "
            "with another seed."
        )
        text = _joined(summary, advice)
        super().__init__(text, job_id=job_id, job=job, summary=summary, advice=advice)
        self.server_message = message
        self.code = code


class JobCancelled(JobError):
    def __init__(self, job_id: str, *, job: Job | None = None) -> None:
        summary = f"Job {job_id} was cancelled (not charged)."
        advice = "Submit it again to get a result."
        text = _joined(summary, advice)
        super().__init__(text, job_id=job_id, job=job, summary=summary, advice=advice)


class JobResultMissing(JobError):
    """The job's full record says ``completed`` but names no images.

    Raised instead of returning a result of no images: the job may well have been charged, so
    its id is kept for a later look rather than reported as done.
    """

    def __init__(self, job_id: str, *, job: Job | None = None) -> None:
        summary = (
            f"Job {job_id} completed (and may have been charged), but the API's record of it "
            "lists no images."
        )
        advice = (
            f"Retry client.download({job_id!r}) in a moment; if it still lists none, report "
            "the job id to the API's support."
        )
        text = _joined(summary, advice)
        super().__init__(text, job_id=job_id, job=job, summary=summary, advice=advice)


class WaitTimeout(JobError):
    """The wait's deadline (``timeout`` seconds) passed with the job still ``last_status``; the
    job keeps running on the server."""

    def __init__(
        self, job_id: str, last_status: str, timeout: float, *, job: Job | None = None
    ) -> None:
        summary = f"Job {job_id} is still {last_status} after {timeout:g} s."
        advice = (
            f"It keeps running on the server: call wait({job_id!r}) again to collect it, or "
            f"cancel({job_id!r})."
        )
        text = _joined(summary, advice)
        super().__init__(text, job_id=job_id, job=job, summary=summary, advice=advice)
        self.last_status = last_status
        self.timeout = timeout


class SubmissionOutcomeUnknown(NaiveError):
    """A submit went out and no answer came back, and the job list could not settle it.

    The job may exist (and may be charged when it completes). ``candidates`` are recent jobs that
    could be it; re-submitting blindly could pay twice. ``detail`` says why it could not be
    settled ("" when the summary says no more).
    """

    def __init__(self, idempotency_key: str, candidates: list[Job], detail: str = "") -> None:
        ids = ", ".join(job.id for job in candidates[:5]) or "none found"
        more = f" (+{len(candidates) - 5} more)" if len(candidates) > 5 else ""
        summary = (
            f"The submit with idempotency key {idempotency_key} may or may not have created a job"
            f"{' (' + detail + ')' if detail else ''}. Candidate jobs: {ids}{more}."
        )
        advice = (
            "Check them with client.get(id) / client.jobs() before submitting again, or "
            "resubmit with the same idempotency_key so a server that honours it cannot create "
            "a second job."
        )
        super().__init__(_joined(summary, advice), summary=summary, advice=advice)
        self.idempotency_key = idempotency_key
        self.candidates = candidates
        self.detail = detail


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
