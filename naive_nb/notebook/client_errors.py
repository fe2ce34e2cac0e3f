"""A client error in a cell's words.

A client error keeps its parts apart: ``summary`` (what happened), ``advice`` (the next step in the
Python API's terms) and its class's fields (:mod:`naive_nb.errors`). A cell reads the summary, or
a sentence built here from the fields (a refusal names the flag that sets the field, the rule it
broke, what is allowed and what was given), then this module's own advice: ``%naive models``,
``%naive get ID``, ``--num``, ``%naive login``. The client's advice is never shown, and no client
message is cut apart or rewritten (``tests/magic/test_errors.py`` reads this module and fails if
one is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from naive_nb.notebook.notes import listing, sentence

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.errors import (
        APIError,
        AuthenticationError,
        InsufficientCreditsError,
        JobError,
        ValidationError,
    )

# the end of a 401's advice: the safe way to give a notebook a key
LOGIN_HINT = (
    "In a notebook, %naive login asks for a key at a hidden prompt (not %env, which saves the "
    "key in the notebook)."
)


# the flag that sets each input key, so a refusal says what to change in the cell
FLAGS = {
    "input.seed": "--seed",
    "input.num_images": "--num",
    "input.image_size": "--size",
    "input.num_inference_steps": "--steps",
    "input.guidance_scale": "--guidance",
    "input.output_format": "--format",
    "input.negative_prompt": "--negative",
    "input.enable_safety_checker": "--no-safety",
}
EMPTY_PROMPT = "The prompt is empty. Write it after %naive, or in the cell body of %%naive."


def client_message(error: Exception) -> str | None:
    """A client error in a cell's terms: what happened (the error's ``summary``, or a sentence
    from its fields), then what to do with the commands a cell has. The client's own advice,
    written for the Python API, is not shown."""
    import naive_nb.errors as e

    if not isinstance(error, e.NaiveError):
        return None
    if isinstance(error, e.AuthenticationError):
        return _unauthorized(error)
    if isinstance(error, e.InsufficientCreditsError):
        return _no_credits(error)
    if isinstance(error, e.RateLimitError):
        wait = f"{error.retry_after:g} s" if error.retry_after is not None else "a minute"
        return f"Rate limited by the API (429). Wait {wait} and run the cell again."
    if isinstance(error, e.APIConnectionError):
        todo = (
            "The server was slow to answer; run the cell again in a moment."
            if isinstance(error, e.APITimeoutError)
            else "Check the network and NAIVE_BASE_URL, then retry."
        )
        return (
            f"Cannot reach the Naive API: {sentence(error.summary)} {todo} Without "
            "NAIVE_API_KEY and NAIVE_BASE_URL, naive-nb uses its local preview engine instead."
        )
    if isinstance(error, e.APIError):
        return _then(f"{_status(error)}{error.summary}", _api_advice(error))
    if isinstance(error, e.SubmissionOutcomeUnknown):
        return outcome_unknown(error)
    if isinstance(error, e.JobError):
        return _job_error(error)
    return str(error)  # a client error this module has no words of its own for (none today)


def what_happened(error: BaseException) -> str:
    """What an error says happened, briefly and without advice, for a clause inside a
    sentence (a tile, a job that could not be cancelled): a client error's status and
    ``summary`` (its advice is the Python API's), any other error's text."""
    import naive_nb.errors as e

    if isinstance(error, e.APIConnectionError):
        text = f"cannot reach the Naive API: {error.summary}"
    elif isinstance(error, e.APIError):
        text = f"{_status(error)}{error.summary}"
    elif isinstance(error, e.NaiveError):
        text = error.summary
    else:
        text = str(error) or type(error).__name__
    return sentence(text)[:-1]  # a clause: the one full stop sentence() leaves is dropped


#: the next step after an API error, by class (the nearest in the error's lineage); the
#: server's hint comes first, as in the client, except where a cell has a command that fits
API_ADVICE = {
    "InvalidModelError": "See %naive models for the ids.",
    "ValidationError": "Fix the named field; %naive models lists what each model accepts.",
    "BillingBlockedError": "Renew the subscription or pick a plan in your Naive dashboard.",
    "PaymentRequiredError": "Top up credits or check the plan in your Naive dashboard.",
    "PermissionDeniedError": (
        "This key may not use this feature; check its permissions in your Naive dashboard."
    ),
    "NotFoundError": "Check the id; %naive jobs lists your recent jobs.",
    "ConflictError": "%naive jobs lists your recent jobs; %naive get JOB_ID collects one.",
    "ProviderError": "Check the parameters against %naive models, then retry.",
    "ServerError": "This is on the server's side; retry in a minute.",
    "APIError": "Retry later; if it persists, report it with the request details.",
}
#: where the cell's command beats the server's hint (which names REST routes)
OWN_ADVICE_FIRST = frozenset({"InvalidModelError", "NotFoundError"})


def _status(error: APIError) -> str:
    """``[404 resource_not_found] ``: the reply's status and code, as the client shows them."""
    if error.status and error.code:
        return f"[{error.status} {error.code}] "
    return f"[{error.status}] " if error.status else ""


def _then(summary: str, advice: str) -> str:
    """``summary`` as a sentence, then ``advice`` unless the summary already says it."""
    return sentence(summary) if advice in summary else f"{sentence(summary)} {advice}"


def _api_advice(error: APIError) -> str:
    import naive_nb.errors as e

    if isinstance(error, e.NotFoundError) and error.url and error.job_id:
        return f"%naive get {error.job_id} fetches the job again, with fresh URLs."
    if isinstance(error, e.ConflictError) and error.job_id:
        return f"%naive get {error.job_id} waits for it and collects it."
    name = next(c.__name__ for c in type(error).__mro__ if c.__name__ in API_ADVICE)
    if error.hint and name not in OWN_ADVICE_FIRST:
        return error.hint
    return API_ADVICE[name]


def _job_error(error: JobError) -> str:
    import naive_nb.errors as e

    job_id = error.job_id
    if isinstance(error, e.JobResultMissing):
        return (
            f"Job {job_id} completed (and may have been charged), but the API's record of it "
            f"lists no images. Look again in a moment with %naive get {job_id}; if it still "
            "lists none, report the job id to the API's support."
        )
    if isinstance(error, e.WaitTimeout):
        return (
            f"Job {job_id} is still {error.last_status} after {error.timeout:g} s. It keeps "
            f"running on the server (and may be charged): collect it later with "
            f"%naive resume {job_id}, or stop it with %naive cancel {job_id}."
        )
    if isinstance(error, e.JobFailed):
        return (
            f"{sentence(error.summary)} Failed jobs are not charged; check the input against "
            "%naive models or retry with another seed."
        )
    if isinstance(error, e.JobCancelled):
        return f"{sentence(error.summary)} Submit it again to get a result."
    return sentence(error.summary)


# how a cell takes each setting of the client's away (a typed key is an argument to the client)
_UNSET = {
    "api_key": "restart the kernel (forgetting the typed key)",
    "NAIVE_API_KEY": "unset NAIVE_API_KEY",
    "base_url": "leave out base_url=",
    "NAIVE_BASE_URL": "unset NAIVE_BASE_URL",
}


def _unauthorized(error: AuthenticationError) -> str:
    """A 401, with advice for this kernel's configuration (where its key and address came
    from), then the notebook's safe way of setting a key."""
    from naive_nb.client import LOCAL_BACKEND

    head = f"{_status(error)}{sentence(error.summary)}"
    if error.backend == LOCAL_BACKEND:
        return (
            f"{head} The local preview engine refused the key naive-nb gave it; restart the "
            "kernel to start a fresh one."
        )
    where = "The hosted API" if error.backend == "hosted" else f"The server at {error.base_url}"
    if error.key_from:
        check = "NAIVE_API_KEY" if error.key_from == "env" else "the key you typed"
        advice = f"{where} refused the key: check {check} (a key looks like nv_sk_live_...)"
    else:
        advice = f"{where} wants a key: set NAIVE_API_KEY (a key looks like nv_sk_live_...)"
    if error.to_go_local:
        steps = " and ".join(_UNSET.get(s, s) for s in error.to_go_local)
        advice += f", or {steps} to use the local preview engine"
    return f"{head} {advice}. {LOGIN_HINT}"


def _no_credits(error: InsufficientCreditsError) -> str:
    """One sentence of cost and balance, one of what to do (the cell's flag, not the client's
    keyword)."""
    required, balance, price = error.required, error.balance, error.price
    if required is None:  # the figures are unknown: the server's words, then what to do
        cost = sentence(error.summary)
    else:
        cost = f"this request costs {required:g} credits"
        value = price.credit_value_usd if price is not None else None
        if value is not None:
            cost += f" (about ${required * value:.2f})"
        cost += f"; the balance is {balance:g}." if balance is not None else "."
    if balance is not None and balance < 0:
        # below zero, no smaller cell fits: only credits help (the server says why it is so)
        return f"Not enough credits: {cost} {error.hint or 'Buy credits in your Naive dashboard.'}"
    return (
        f"Not enough credits: {cost} Buy credits in your Naive dashboard or lower --num "
        "(%naive price shows the cost of a cell first)."
    )


def is_refused_input(error: Exception) -> TypeGuard[ValidationError]:
    """A request the client's validator refused before sending (it never reached the server)."""
    from naive_nb.errors import ValidationError

    return isinstance(error, ValidationError) and error.status is None


def refusal(error: ValidationError) -> str:
    """The client validator's refusal, worded for a cell from its parts: the field and the flag
    that sets it, the rule it broke, what is allowed, what was given."""
    field, rule, allowed, value = error.field or "", error.rule, error.allowed, error.value
    if field == "input.prompt" and rule in ("text", "required"):
        return EMPTY_PROMPT
    key = field.removeprefix("input.")
    flag = FLAGS.get(field)
    named = f"{field} ({flag})" if flag else field
    if rule == "not_taken":
        taken = f"{error.model} does not take {key!r}{f' ({flag})' if flag else ''}"
        return f"{taken}. Allowed: {', '.join(allowed)}. %naive models lists what each model takes."
    if rule == "unknown_model":
        return f"Unknown model {value!r}. Allowed: {', '.join(allowed)}. %naive models lists them."
    if rule == "required":
        give = "" if flag else f"; give it with -p {key}=VALUE"
        return f"{named} is required for {error.model}{give}."
    if rule in ("integer", "number"):
        low, high = allowed
        kind = "an integer" if rule == "integer" else "a number"
        scope = f" for {error.model}" if error.model else ""
        return f"{named} must be {kind} from {low} to {high}{scope}, got {_shown(value)}."
    if rule == "choice":
        named_choices = [repr(choice) for choice in allowed]
        listed = (
            " or ".join(named_choices)
            if len(named_choices) == 2
            else f"one of {', '.join(named_choices)}"
        )
        return f"{named} must be {listed}, got {_shown(value)}."
    if rule == "boolean":
        return f"{named} must be True or False, got {_shown(value)}."
    if rule == "text":
        return f"{named} must be a string, got {_shown(value)}."
    if rule == "max_length":
        if field == "input.prompt":
            return f"The prompt is {len(value)} characters long; the limit is {allowed}."
        return f"{named} must be at most {allowed} characters, got {len(value)}."
    if rule == "image_size":
        from naive_nb.client import SIDE, SIDE_MULTIPLE

        return (
            f"{named} must be one of {', '.join(allowed)}, or WIDTHxHEIGHT in multiples of "
            f"{SIDE_MULTIPLE} from {SIDE[0]} to {SIDE[1]}; got {_shown(value)}."
        )
    # a rule no flag of a cell can break (colours, an image URL, the input itself): the
    # validator's own sentence, which names the field
    return sentence(error.summary)


def _shown(value: object, limit: int = 40) -> str:
    """A value as a refusal shows it: its repr, cut short (a prompt may be very long)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def outcome_unknown(error: Exception) -> str:
    """A submit whose reply was lost and that the job list could not settle, in a cell's terms
    (the magic journals the candidates; it cannot pass an idempotency key)."""
    ids = [job.id for job in getattr(error, "candidates", ())]
    if ids:
        return (
            f"The submit got no reply, so it is not known whether it created a job. Jobs that "
            f"could be it: {listing(ids)}. %naive resume collects the one whose prompt and seed "
            "match; %naive get JOB_ID shows one."
        )
    return (
        "The submit got no reply, and the job list could not tell whether it created a job. "
        "%naive jobs lists recent jobs (%naive get JOB_ID collects one); running the cell again "
        "may pay twice."
    )
