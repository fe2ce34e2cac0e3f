"""What a panel user reads: labels, the cost preview, run labels, the record's headings, errors.

Lower layers hand over codes, fields and numbers (:class:`naive_nb.run.Quote`, the run's
problems, the client's errors with their parts); the words are chosen here, in the panel's
terms (its controls' labels, not the magic's flags).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naive_nb.notebook.notes import sentence

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.errors import ValidationError
    from naive_nb.run import InterruptReport, PlanProblem, Quote

__all__ = [
    "LABELS",
    "PANEL_TEXT",
    "cancelled",
    "closed",
    "cost_text",
    "images_of",
    "label_of",
    "over_cap",
    "problem",
    "seeds_text",
]

#: what the panel calls each input key (and the fields of a request)
LABELS = {
    "prompt": "Prompt",
    "model": "Model",
    "seeds": "Seeds",
    "seed": "Seeds",
    "image_size": "Size",
    "num_images": "Images",
    "num_inference_steps": "Steps",
    "guidance_scale": "Guidance",
    "strength": "Strength",
    "output_format": "Format",
    "enable_safety_checker": "Safety checker",
    "negative_prompt": "Negative prompt",
    "style": "Style",
    "colors": "Colours",
    "image_url": "Image URL",
}

#: the panel's own text/plain: what a reader sees where the live widget cannot be shown
PANEL_TEXT = (
    "naive-nb panel (a live widget: it needs its kernel running). "
    "The results of its runs are kept in the output below it."
)


def closed(runs: int) -> str:
    """What the panel's output says once the panel is closed (and in a notebook saved then)."""
    if not runs:
        return "naive-nb panel (closed): it made no run."
    kept = "its run is" if runs == 1 else f"its {runs} runs are"
    return f"naive-nb panel (closed): {kept} kept in the output below."


def label_of(key: str) -> str:
    return LABELS.get(key, key)


def seeds_text(seeds: tuple[int, ...] | list[int]) -> str:
    """Seeds as the seeds field reads them back (``1-4`` for a run of consecutive ones)."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(seed) for seed in seeds)


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def cost_text(quote: Quote) -> str:
    """``4 images x 0.12 = 0.48 credits ($0.02)``."""
    images = images_of(quote)
    each = quote.credits / images if images else 0.0
    usd = f" (${quote.usd:.2f})" if quote.usd is not None else ""
    noun = "image" if images == 1 else "images"
    stored = f"; {quote.cached} from the store, free" if quote.cached else ""
    return f"{images} {noun} x {_number(each)} = {_number(quote.credits)} credits{usd}{stored}"


def images_of(quote: Quote) -> int:
    if quote.lines:
        return sum(line.jobs * line.num_images for line in quote.lines)
    return quote.jobs * quote.num_images


def over_cap(quote: Quote, credits: float | None, images: int | None) -> str | None:
    """Why ``quote`` is over a cap (``credits``, ``images``: the most one run may send, None:
    no cap), or None when it is within both."""
    if credits is not None and quote.credits > credits:
        cap = f"this panel's cap of {_number(credits)} credits"
        fix = "Panel(max_credits=...) or %config NaiveMagics.confirm_credits"
    elif images is not None and images_of(quote) > images:
        cap = f"the cap of {images} images a run"
        fix = "%config NaiveMagics.confirm_images"
    else:
        return None
    return f"{cost_text(quote)}: over {cap}. Use fewer seeds or images, or raise the cap ({fix})."


def cancelled(report: InterruptReport, seconds: float, images: int) -> str:
    """How a run cancelled from the panel ended: what became of each job it had started."""
    from naive_nb.notebook.notes import listing, submit_account

    parts = [f"Cancelled after {seconds:.1f}s."]
    cancelled = list(report.cancelled)
    submit = report.submit  # a submit cut short: the client dealt with its job itself
    if submit is not None and submit.outcome == "cancelled" and submit.job_id:
        cancelled.append(submit.job_id)
        submit = None
    if cancelled:
        parts.append(
            f"Cancelled on the server: job {listing(cancelled)} (a job that had already "
            "started may still be charged)."
        )
    if submit is not None:
        parts.append(submit_account(submit).removeprefix("Interrupted: "))
    if report.finished:
        done = listing([f"{job} ({status})" for job, status in report.finished])
        parts.append(f"Already finished, so not cancelled: {done}.")
    if report.cancel_failed:
        failed = listing([job for job, _ in report.cancel_failed])
        parts.append(
            f"Could not cancel {failed}: it may still run and be charged; it stays in the "
            "journal (%naive cancel JOB_ID stops it, %naive resume collects it)."
        )
    if not (cancelled or submit or report.finished or report.cancel_failed):
        parts.append("No job had been accepted yet: nothing was charged.")
    if images:
        parts.append(f"The {images} image{'s' if images != 1 else ''} made before are kept.")
    return " ".join(parts)


def problem(error: BaseException) -> tuple[str | None, str] | None:
    """``(field, message)`` for an error of ours (``field``: the control it concerns, or None
    for the panel's general error line); None for anything else (a bug)."""
    from naive_nb.errors import InvalidModelError, NaiveError, ValidationError
    from naive_nb.notebook.client_errors import client_message, is_refused_input
    from naive_nb.notebook.messages import cache_miss
    from naive_nb.notebook.panel.errors import PanelInputError
    from naive_nb.run import CacheMiss, PlanProblem, RunProblem, SweepError

    if isinstance(error, PanelInputError):
        return error.field, str(error)
    if isinstance(error, SweepError):
        field = "seeds" if error.field in (None, "seeds") else error.field
        return field, error.describe(label_of(field))
    if isinstance(error, PlanProblem):
        return _plan_problem(error)
    if isinstance(error, CacheMiss):
        return "seeds", cache_miss(error)
    if isinstance(error, InvalidModelError):
        return "model", f"Unknown model {error.value!r}. Allowed: {', '.join(error.allowed)}."
    if isinstance(error, ValidationError) and is_refused_input(error):
        return _refused(error)
    if isinstance(error, NaiveError):
        return None, client_message(error) or str(error)
    if isinstance(error, RunProblem):
        return error.field, str(error)
    return None


def _plan_problem(problem: PlanProblem) -> tuple[str | None, str]:
    detail = problem.detail
    if problem.code == "too_many_jobs":
        return "seeds", (
            f"This makes {detail['jobs']} jobs; the limit is {detail['limit']} per run. "
            "Use fewer seeds."
        )
    if problem.code == "undocumented_model_cache_only":
        return "model", (
            f"A cache-only run checks requests against the documented models only, and "
            f"{detail['model']!r} is not one of them."
        )
    return problem.field, str(problem)


def _refused(error: ValidationError) -> tuple[str | None, str]:
    """The client validator's refusal, worded with the control's label."""
    key = (error.field or "").removeprefix("input.")
    label = label_of(key)
    rule, allowed, value = error.rule, error.allowed, error.value
    if key == "prompt" and rule in ("text", "required"):
        return "prompt", "Type a prompt first."
    if rule == "not_taken":
        return key, f"{error.model} does not take {label}."
    if rule == "required":
        return key, f"{label} is required for {error.model}."
    if rule in ("integer", "number") and allowed:
        low, high = allowed
        kind = "a whole number" if rule == "integer" else "a number"
        scope = f" for {error.model}" if error.model else ""
        return key, f"{label} must be {kind} from {low} to {high}{scope}; got {value!r}."
    if rule == "max_length" and isinstance(value, str):
        return key, f"{label} is {len(value)} characters long; the limit is {allowed}."
    return key or None, sentence(error.summary)
