"""What a ``%naive`` user reads when something goes wrong: one short paragraph, then what to do.

Lower layers hand over codes and fields, and the words are chosen in the notebook layer. The run
layer's problems come as codes with fields (:class:`naive_nb.run.RunProblem`), worded here with
the cell's flags; client errors are worded from their parts in
:mod:`naive_nb.notebook.client_errors`. The API key is scrubbed once more, whatever the source of
the text.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from naive_nb.notebook.args import MagicUsageError
from naive_nb.notebook.client_errors import client_message, is_refused_input, refusal
from naive_nb.notebook.notes import damage_found, sentence
from naive_nb.notebook.sweeps import plan_problem as sweep_problem
from naive_nb.notebook.sweeps import vary_problem
from naive_nb.run.problems import CacheMiss, EmptyResult, JobProblem, PlanProblem, SweepError


class NaiveUsageError(UsageError):
    """Shown as one line without a traceback, and still fails the cell (so nbclient stops).

    IPython prints a bare ``UsageError`` to stderr only; a subclass with ``_render_traceback_``
    becomes a proper ``error`` output instead, which a saved notebook and papermill keep.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{self}\x1b[0m"]


def short_message(error: Exception) -> str | None:
    """The newcomer's message for ``error``, or None when it is not one of ours (a real bug)."""
    if isinstance(error, MagicUsageError):
        return str(error)
    if isinstance(error, PlanProblem):
        return f"%naive: {plan_problem(error)} Nothing was sent."
    if isinstance(error, SweepError):
        if error.detail.get("kind") == "axis":
            return f"%naive: {vary_problem(error)}"
        return f"%naive: {error.describe(SWEEP_FLAGS.get(error.field or '', '--seeds'))}"
    if isinstance(error, JobProblem):
        return f"%naive: {job_problem(error)}"
    if is_refused_input(error):
        return f"%naive: {refusal(error)} Nothing was sent."
    empty = _job_without_images(error)
    if empty is not None:
        return (
            f"%naive: Job {empty} completed (and may have been charged), but the server named "
            f"no images for it. Nothing was stored; it stays in the journal: %naive resume "
            f"{empty} looks again."
        )
    if isinstance(error, CacheMiss):
        return f"%naive: {cache_miss(error)}"
    message = client_message(error)
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


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with each secret (the API keys this kernel knows) as ``***``: a safety net under
    whatever produced the text, not a rewording of it."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


CACHE_ONLY_OFF = "%config NaiveMagics.cache_only = False (and no --cache-only)"


def cache_miss(miss: CacheMiss) -> str:
    """A cache-only run that found no (intact) stored copy of a request."""
    if miss.damage is not None:
        found = damage_found(miss.damage, miss.seed if isinstance(miss.seed, int) else None)
        return (
            f"Cache-only: {found}, so there is no intact copy to show, and a cache-only run "
            f"sends nothing. Run it with requests to fetch or generate it again: "
            f"{CACHE_ONLY_OFF}."
        )
    if miss.code == "unseeded":
        what = (
            f"Cache-only: {miss.model} takes no seed, so each of its requests makes a new "
            "random image and none is ever cached."
        )
    else:
        what = (
            f"Cache-only: no cached result for {miss.model} with seed {miss.seed} "
            f"(key {miss.key[:12]})."
        )
    return f"{what} Run it with requests: {CACHE_ONLY_OFF}."


#: the flag of each list a sweep parses
SWEEP_FLAGS = {"seeds": "--seeds", "num_inference_steps": "--steps", "guidance_scale": "--guidance"}


def plan_problem(problem: PlanProblem) -> str:
    """A request refused while planning it, in the cell's terms."""
    detail = problem.detail
    swept = sweep_problem(problem)
    if swept is not None:
        return swept
    if problem.code == "too_many_jobs":
        return (
            f"This sweep makes {detail['jobs']} jobs; the limit is {detail['limit']} per cell. "
            "Use fewer values."
        )
    if problem.code == "undocumented_model_cache_only":
        return (
            f"A cache-only run checks requests against the documented models only, and "
            f"{detail['model']!r} is not one of them. Turn cache-only off to use it "
            f"({CACHE_ONLY_OFF})."
        )
    return str(problem)


def job_problem(problem: JobProblem) -> str:
    """One job that cannot be collected."""
    job_id = problem.job_id
    if problem.code == "not_ours":
        return f"Job {job_id}: {not_ours(job_id)}."
    status = problem.detail.get("status", "")
    reason = problem.detail.get("reason", "")
    return sentence(f"Job {job_id} ended {status}{': ' + reason if reason else ''}")


def not_ours(job_id: str) -> str:
    return (
        "its prompt and seed match no request of this store (closed in the journal; "
        f"%naive get {job_id} shows it anyway)"
    )
