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

SET_KEY = (
    "Set the key without writing it into the notebook: export NAIVE_API_KEY before starting "
    "Jupyter, or run %naive login (it asks with a hidden prompt). Never %env NAIVE_API_KEY=..., "
    "which saves the key in the notebook."
)


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
        return f"The API key was refused (401 unauthorized). {SET_KEY}"
    if isinstance(error, e.InsufficientCreditsError):
        return (
            f"Not enough credits: {text} "
            "Check the cost first with %naive price (same options), or lower --num."
        )
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
    if isinstance(error, e.NaiveError):
        return (
            text.replace("`client.models()`", "%naive models")
            .replace("client.jobs()", "%naive jobs")
            .replace("client.get(", "%naive get (")
        )
    return None


def short_message(error: Exception) -> str | None:
    """The newcomer's message for ``error``, or None when it is not one of ours (a real bug)."""
    if isinstance(error, MagicUsageError):
        return str(error)
    if isinstance(error, InputProblem):
        return f"%naive: {error} Nothing was sent."
    if isinstance(error, (SweepError, CacheMiss)):
        return f"%naive: {error}"
    message = _client_message(error)
    return None if message is None else f"%naive: {message}"


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
