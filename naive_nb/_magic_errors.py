"""What a ``%naive`` user reads when something goes wrong: one short paragraph, then what to do.

Client errors already say what happened; here they are reworded for a notebook (``%naive login``
instead of ``client = Client(...)``, ``%naive models`` instead of ``client.models()``), and the
API key is scrubbed once more, whatever the source of the text.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from naive_nb._magic_args import MagicUsageError
from naive_nb.run.cache import CacheMiss
from naive_nb.run.params import InputProblem
from naive_nb.run.sweep import SweepError

# added to the client's 401 advice (which knows where this kernel's key and address came from)
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


class NaiveUsageError(UsageError):
    """Shown as one line without a traceback, and still fails the cell (so nbclient stops).

    IPython prints a bare ``UsageError`` to stderr only; a subclass with ``_render_traceback_``
    becomes a proper ``error`` output instead, which a saved notebook and papermill keep.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{self}\x1b[0m"]


def _client_message(error: Exception) -> str | None:
    from naive_nb import errors as e

    text = str(error)
    if isinstance(error, e.AuthenticationError):
        return _unauthorized(text)
    if isinstance(error, e.InsufficientCreditsError):
        return _no_credits(error, text)
    if isinstance(error, e.InvalidModelError):
        return f"{text} See %naive models for the ids."
    if isinstance(error, e.ValidationError):
        return text.replace("`client.models()`", "%naive models")
    if isinstance(error, e.RateLimitError):
        wait = f"{error.retry_after:g} s" if error.retry_after is not None else "a minute"
        return f"Rate limited by the API (429). Wait {wait} and run the cell again."
    if isinstance(error, e.APIConnectionError):
        return (
            f"Cannot reach the Naive API: {text} Without NAIVE_API_KEY and NAIVE_BASE_URL, "
            "naive-nb uses its local preview engine instead."
        )
    if isinstance(error, e.WaitTimeout):
        return (
            f"Job {error.job_id} is still {error.last_status} after {error.timeout:g} s. It keeps "
            f"running on the server (and may be charged): collect it later with "
            f"%naive resume {error.job_id}, or stop it with %naive cancel {error.job_id}."
        )
    if isinstance(error, e.NaiveError):
        return (
            text.replace("`client.models()`", "%naive models")
            .replace("client.jobs()", "%naive jobs")
            .replace("client.get(", "%naive get (")
            .replace("GET /v1/jobs lists your recent jobs", "%naive jobs lists your recent jobs")
        )
    return None


def _unauthorized(text: str) -> str:
    """The client's 401 (its advice fits this kernel's configuration) plus the notebook's way of
    setting a key, unless the text already names it."""
    # a key typed at %naive login reaches the client as an argument
    text = text.replace("the api_key you passed", "the key you typed")
    text = text.replace("leave out api_key=", "restart the kernel (forgetting the typed key)")
    if "%naive login" in text:
        return text
    return f"{text.rstrip()} {LOGIN_HINT}"


def _no_credits(error: Exception, text: str) -> str:
    """One sentence of cost and balance, one of what to do (the cell's flag, not the client's
    keyword)."""
    required = getattr(error, "required", None)
    balance = getattr(error, "balance", None)
    price = getattr(error, "price", None)
    if required is None:  # the figures are unknown: the server's words, then what to do
        cost = text.split(". ", 1)[0].rstrip(".") + "."
    else:
        cost = f"this request costs {required:g} credits"
        value = getattr(price, "credit_value_usd", None)
        if value is not None:
            cost += f" (about ${required * value:.2f})"
        cost += f"; the balance is {balance:g}." if balance is not None else "."
    return (
        f"Not enough credits: {cost} Buy credits in your Naive dashboard or lower --num "
        "(%naive price shows the cost of a cell first)."
    )


def short_message(error: Exception) -> str | None:
    """The newcomer's message for ``error``, or None when it is not one of ours (a real bug)."""
    if isinstance(error, MagicUsageError):
        return str(error)
    if isinstance(error, InputProblem):
        return f"%naive: {error} Nothing was sent."
    if _is_refused_input(error):
        return f"%naive: {refusal(error)} Nothing was sent."
    if isinstance(error, (SweepError, CacheMiss)):
        return f"%naive: {error}"
    message = _client_message(error)
    return None if message is None else f"%naive: {message}"


def _is_refused_input(error: Exception) -> bool:
    """A request the client's validator refused before sending (it never reached the server)."""
    from naive_nb.errors import ValidationError

    return isinstance(error, ValidationError) and getattr(error, "status", None) is None


def refusal(error: Exception) -> str:
    """The client validator's refusal, worded for a cell: the flag to change, what is allowed."""
    field = getattr(error, "field", None) or ""
    if field == "input.prompt":
        return EMPTY_PROMPT
    text = str(error)
    for advice in (
        " Fix the named field; `client.models()` lists what each model accepts.",
        " Pick a model id from `client.models()`.",
    ):
        text = text.replace(advice, "")
    text = text.rstrip().rstrip(".") + "."
    flag = FLAGS.get(field)
    if flag and flag not in text:
        key = field.removeprefix("input.")
        for named in (field, f"'{key}'"):
            if named in text:
                text = text.replace(named, f"{named} ({flag})", 1)
                break
    if field.startswith("input.") and "does not take" in text:
        text += " %naive models lists what each model takes."
    elif field == "model":
        text += " %naive models lists them."
    return text


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
