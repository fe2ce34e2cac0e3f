"""What a ``%naive`` user reads when something goes wrong: one short paragraph, then what to do.

Client errors already say what happened; here they are reworded for a notebook (``%naive login``
instead of ``client = Client(...)``, ``%naive models`` instead of ``client.models()``), and the
API key is scrubbed once more, whatever the source of the text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from naive_nb.notebook.args import MagicUsageError
from naive_nb.run.cache import CacheMiss
from naive_nb.run.params import InputProblem
from naive_nb.run.store import EmptyResult
from naive_nb.run.sweep import SweepError

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.run.runner import Adopted, Repair
    from naive_nb.run.store import Damage

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
    if isinstance(error, e.SubmissionOutcomeUnknown):
        return outcome_unknown(error)
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
    empty = _job_without_images(error)
    if empty is not None:
        return (
            f"%naive: Job {empty} completed (and may have been charged), but the server named "
            f"no images for it. Nothing was stored; it stays in the journal: %naive resume "
            f"{empty} looks again."
        )
    if isinstance(error, CacheMiss) and error.damage is not None:
        return f"%naive: {offline_damage(error)}"
    if isinstance(error, (SweepError, CacheMiss)):
        return f"%naive: {error}"
    message = _client_message(error)
    return None if message is None else f"%naive: {message}"


def _job_without_images(error: Exception) -> str | None:
    """The id of a completed job that came back with no images (refused by the store, or
    reported so by the client), else None."""
    from naive_nb.errors import JobError

    if isinstance(error, EmptyResult):
        return error.job_id
    job = getattr(error, "job", None)
    if isinstance(error, JobError) and job is not None and job.status == "completed":
        return error.job_id
    return None


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


def listing(items: Sequence[str], shown: int = 5, sep: str = ", ") -> str:
    """``items`` joined, cut after ``shown`` with "and N more" so a cut list says it was cut."""
    head = sep.join(items[:shown])
    return f"{head}{sep}and {len(items) - shown} more" if len(items) > shown else head


def _seed(seeds: Sequence[int | None]) -> str:
    known = [str(seed) for seed in dict.fromkeys(seeds) if seed is not None]
    if not known:
        return "the stored copy"
    return f"the stored copy of seed{'s' if len(known) > 1 else ''} {', '.join(known)}"


def _where(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def damage_found(damage: Damage, seed: int | None = None) -> str:
    """What is wrong with a stored copy, e.g. "the stored copy of seed 4 failed its checksum"."""
    seeds = damage.seeds or (seed,)
    what = _seed(seeds)
    job = damage.job_id[:8]
    if damage.problem == "checksum":
        return f"{what} (job {job}) failed its checksum ({_where(damage.path)})"
    if damage.problem == "file_missing":
        return f"{what} (job {job}) is missing a file ({_where(damage.path)})"
    if damage.problem == "manifest_unreadable":
        return f"{_seed((seed,))} (job {job}) has an unreadable manifest ({_where(damage.path)})"
    if damage.problem == "no_files":
        return f"{_seed((seed,))} (job {job}) lists no images ({_where(damage.path)})"
    return f"{_seed((seed,))} (job {job}) is gone from the store ({_where(damage.path.parent)})"


def repaired(repair: Repair) -> str:
    """A damaged copy and what the run did about it."""
    found = damage_found(repair.damage, repair.seed)
    if repair.refetched:
        return f"{found}; fetched it again from the server (no new job, no new charge)."
    return f"{found}; generated it again (a new job)."


def offline_damage(miss: CacheMiss) -> str:
    assert miss.damage is not None
    found = damage_found(miss.damage, miss.seed if isinstance(miss.seed, int) else None)
    return (
        f"Offline mode: {found}, so there is no intact copy to show, and offline mode sends "
        "nothing. Run it online to fetch or generate it again: %config NaiveMagics.offline = "
        "False (and no --offline)."
    )


def adopted(jobs: Sequence[Adopted]) -> str:
    """Requests answered by a job the run did not submit."""
    parts = []
    earlier = [a for a in jobs if a.reason == "pending"]
    found = [a for a in jobs if a.reason == "candidate"]
    if earlier:
        ids = listing([a.job_id[:8] for a in earlier])
        parts.append(
            f"still pending from an earlier run, so waited for instead of submitted again: "
            f"job {ids} (--refresh submits anew)"
        )
    if found:
        ids = listing([a.job_id[:8] for a in found])
        parts.append(f"a submit got no reply; collected the job it had created: {ids}")
    unverified = [a.job_id[:8] for a in jobs if not a.verified]
    if unverified:
        parts.append(
            f"not verified to be this request's (its record could not be checked), so not "
            f"cached: {listing(unverified)}"
        )
    return "; ".join(parts)


def journal_damage(path: Path, lines: Sequence[int]) -> str:
    numbers = listing([str(n) for n in lines])
    plural = "s" if len(lines) > 1 else ""
    return (
        f"{len(lines)} damaged line{plural} in {_where(path)} skipped (line{plural} {numbers}); "
        "the rest of the journal is read as usual."
    )


def request_rebuilt(unknown: Sequence[str]) -> str:
    what = ", ".join(unknown)
    return (
        "this store never sent this job, so its request is rebuilt from the server's record "
        f"(unknown: {what}); it is stored, but never served from the cache."
    )


def claim_unverified() -> str:
    return (
        "found after a submit lost its reply, and its record cannot tie it to one request of "
        "this store (it reports no prompt or seed, or fits several); stored as unverified, never "
        "served from the cache."
    )
