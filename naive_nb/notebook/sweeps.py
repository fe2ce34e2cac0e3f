"""What a user reads about a sweep: its plan line, and why a sweep is refused before it runs.

The run layer plans with codes and fields (:class:`naive_nb.run.PlanProblem`,
:class:`naive_nb.run.problems.Refusal`, :class:`naive_nb.run.reports.Quote`); these functions
choose the words. The magic and ``naive_nb.compare()`` say the same things in their own terms
(:class:`Terms`: ``--yes`` or ``confirm=True``, a flag or an argument), so a refusal reads the
same from both apart from what to type.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from naive_nb.notebook.notes import listing, sentence

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.errors import ValidationError
    from naive_nb.run.plan import Plan
    from naive_nb.run.problems import PlanProblem, Refusal, SweepError
    from naive_nb.run.reports import Quote

__all__ = ["MAGIC", "PYTHON", "Terms", "plan_line", "plan_problem", "vary_problem"]

#: refusals listed in full; the rest are counted
SHOWN = 4


@dataclass(frozen=True)
class Terms:
    """How a front end names what a user sets."""

    vary: Callable[[str], str]  # an axis as typed: "--vary steps" / "vary['steps']"
    fixed: Callable[[str], str]  # an input key given one value: "--steps" / "params['...']"
    seeds: str  # the list of seeds: "--seeds" / "seeds="
    vary_seeds: str  # "--vary-seeds" / "vary_seeds="
    confirm: str  # what runs a sweep above the cap: "--yes" / "confirm=True"
    setting: Callable[[str], str]  # a setting: "NaiveMagics.confirm_images"
    refusal: Callable[[ValidationError], str]  # the validator's refusal in these terms


def _magic_fixed(key: str) -> str:
    from naive_nb.notebook.client_errors import FLAGS

    named = {"model": "--model", "prompt": "the prompt", "seed": "--seed"}
    return named.get(key) or FLAGS.get(f"input.{key}") or f"-p {key}=..."


def _magic_refusal(error: ValidationError) -> str:
    from naive_nb.notebook.client_errors import refusal

    return refusal(error)


def _python_fixed(key: str) -> str:
    named = {"model": "model=", "prompt": "the prompt", "seed": "seeds="}
    return named.get(key, f"{key}=")


def _python_refusal(error: ValidationError) -> str:
    return sentence(error.summary)  # the validator's own sentence names the field


MAGIC = Terms(
    vary=lambda name: f"--vary {name}",
    fixed=_magic_fixed,
    seeds="--seeds",
    vary_seeds="--vary-seeds",
    confirm="--yes",
    setting=lambda name: f"%config NaiveMagics.{name}",
    refusal=_magic_refusal,
)
PYTHON = Terms(
    vary=lambda name: f"vary[{name!r}]",
    fixed=_python_fixed,
    seeds="seeds=",
    vary_seeds="vary_seeds=",
    confirm="confirm=True",
    setting=lambda name: f"NaiveMagics.{name}",
    refusal=_python_refusal,
)


def vary_problem(error: SweepError, terms: Terms = MAGIC) -> str:
    """A list of values that cannot be read, naming the axis as it was typed."""
    field = error.field or ""
    name = terms.vary(field) if field != "vary" else terms.vary("")
    return error.describe(name.rstrip())


# -- before a run: the plan line --------------------------------------------------------------
def plan_line(plan: Plan, quote: Quote) -> str:
    """What a sweep will make, cost and take, and the values of each axis, e.g. "12 images over
    seed (4) x model (3), about 2.88 credits ($0.14), about 20 s. seed: 1, 2, 3, 4 | model:
    flux/schnell, flux/dev, flux-pro/v1.1". The axes, not a layout: the grid shown wraps a long
    row (8 seeds are two rows of four) and lays several images per job out as rows of their own."""
    images = plan.images
    head = f"{images} image{'s' if images != 1 else ''}{_over(plan)}"
    per_cell = {job.images for job in plan.jobs}
    if per_cell != {1} and len(per_cell) == 1 and plan.shape:
        head += f", {per_cell.pop()} per job"
    parts = [head]
    if plan.unique < len(plan.jobs):
        same = len(plan.jobs) - plan.unique
        parts.append(f"{plan.unique} jobs: {same} identical cell{'s' if same > 1 else ''} run once")
    if quote.cached:
        parts.append(f"{quote.cached} job{'s' if quote.cached > 1 else ''} from the store")
    if quote.jobs:
        parts.append(_cost(quote.credits, quote.usd))
        if quote.seconds is not None:
            parts.append(f"about {_seconds(quote.seconds)}")
    elif not plan.cache_only:
        parts.append("nothing to pay")
    values = " | ".join(
        f"{axis.label}: {listing([axis.show(v) for v in axis.values], 12)}" for axis in plan.axes
    )
    return f"{', '.join(parts)}. {values}" if values else f"{', '.join(parts)}."


def _over(plan: Plan) -> str:
    """ " over seed (4) x model (3)": each axis and how many values it has."""
    if not plan.shape:
        return ""
    axes = " x ".join(
        f"{axis.label} ({count})" for axis, count in zip(plan.axes, plan.shape, strict=True)
    )
    return f" over {axes}"


def _cost(credits: float, usd: float | None) -> str:
    money = f" (${usd:.2f})" if usd is not None else ""
    return f"about {credits:.4g} credits{money}"


def _seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.0f} min"


# -- refusals ------------------------------------------------------------------------------------
def plan_problem(problem: PlanProblem, terms: Terms = MAGIC) -> str | None:
    """A sweep refused while planning it, or None when the code is not a sweep's."""
    detail = problem.detail
    code = problem.code
    if code == "refused_values":
        return refusals(detail["refusals"], terms)
    if code == "fixed_and_varied":
        key, axis = detail["key"], detail["axis"]
        return (
            f"{key} is given one value ({terms.fixed(key)}) and is also varied "
            f"({terms.vary(axis)}); keep one."
        )
    if code == "key_twice":
        first, second = detail["axes"]
        return (
            f"{detail['key']} is varied by two axes ({terms.vary(first)} and "
            f"{terms.vary(second)}); make them one axis (several keys per value: "
            f"{terms.vary('model+steps')})."
        )
    if code == "seeds_twice":
        return f"Seeds are given twice ({terms.seeds} and {terms.vary('seed')}); keep one."
    if code == "vary_seeds_axis":
        axes = ", ".join(detail["axes"]) or "none"
        return (
            f"{terms.vary_seeds} names {detail['name']!r}, which is not an axis of this sweep "
            f"other than the seeds; the axes are: {axes}."
        )
    if code == "over_cap":
        return over_cap(problem, terms)
    return None


def refusals(found: Sequence[Refusal], terms: Terms) -> str:
    """Every value refused, each named by its axis and value."""
    lines = [refusal_line(refusal, terms) for refusal in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(f"and {len(found) - SHOWN} more")
    if len(found) == 1:
        return lines[0]
    return f"{len(found)} values of the sweep are refused: " + " ".join(
        f"({n}) {line}" for n, line in enumerate(lines, 1)
    )


def refusal_line(refusal: Refusal, terms: Terms) -> str:
    """One refused value: ``axis=value: why``."""
    detail = refusal.detail or {}
    if refusal.code == "search_not_found":
        prompt = str(detail.get("prompt", ""))
        shown = prompt if len(prompt) <= 60 else prompt[:57] + "..."
        return (
            f"{terms.vary(refusal.axis)}: {refusal.shown!r} is not in the prompt ({shown!r}), "
            "so this axis would change nothing. The text to search for is the first value "
            "(prompt:dusk,dawn) or the part before = (prompt:dusk=dawn)."
        )
    if refusal.code == "search_overlap":
        other = str(detail.get("other", ""))
        return (
            f"{terms.vary(refusal.axis)} and {terms.vary(other)} overlap in the prompt: one "
            "would change the other's text. Search for words that do not overlap, or make "
            "them one axis."
        )
    error = refusal.error
    why = terms.refusal(error) if error is not None else refusal.code
    if error is not None and error.rule == "unknown_model":
        close = difflib.get_close_matches(str(refusal.value), list(error.allowed or []), 1)
        if close:
            why = f"Unknown model {refusal.value!r}; did you mean {close[0]}? " + why
    return f"{refusal.axis}={_value(refusal)}: {why}"


def _value(refusal: Refusal) -> str:
    return refusal.shown if len(refusal.shown) <= 40 else refusal.shown[:37] + "..."


def over_cap(problem: PlanProblem, terms: Terms) -> str:
    """A sweep above the cap on images or credits: what it would make and cost, and how to run
    it anyway."""
    detail: dict[str, Any] = problem.detail
    jobs, images, cap = detail["jobs"], detail["images"], detail["cap"]
    limit = detail["limit"]
    usd = detail.get("usd")
    cost = f"about {detail['credits']:.4g} credits" + (f", ${usd:.2f}" if usd is not None else "")
    if cap == "confirm_images":
        above = f"more than {terms.setting(cap)} = {limit} images"
        raise_to = images
    else:
        above = f"more than {terms.setting(cap)} = {limit:g} credits"
        raise_to = math.ceil(detail["credits"])
    return (
        f"This sweep makes {jobs} jobs ({images} images; {cost}), {above}. Add {terms.confirm} "
        f"to run it, or raise the cap ({terms.setting(cap)} = {raise_to})."
    )
