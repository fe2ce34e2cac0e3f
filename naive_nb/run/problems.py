"""The run layer's problems: one base with a ``code``, the ``field`` it concerns and a ``detail``.

A front end words a problem from those three (the notebook layer in
``naive_nb.notebook.messages``; a panel puts it next to the widget of its ``field``), so the text
of an exception here is only a plain fallback for code that prints it: it never names a front
end's flag, command or setting::

    RunProblem (Exception)        .code, .field, .detail
    ├── PlanProblem               a request refused while planning it, before anything is sent
    │                             (``refused_values``: each :class:`Refusal`, by axis and value)
    ├── SweepError                a list of values (seeds, steps...) that cannot be expanded
    ├── SelectionProblem          a selection of a result by axis values that names none
    ├── CacheMiss                 cache-only, and no intact stored result for a request
    ├── EmptyResult               a job with no images offered to the store
    ├── JobProblem                one job that cannot be collected (ended, not ours)
    └── RunRecordProblem          a run that cannot be rebuilt from what it left

    KeyboardInterrupt
    └── RunInterrupted            a run stopped by Ctrl-C or a cancel token (.report, .outcome)

:class:`RunInterrupted` stays a ``KeyboardInterrupt`` (what Ctrl-C means to any caller) and carries
the same three fields, plus the structured :class:`InterruptReport` of what became of each job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.errors import Interrupted, ValidationError
    from naive_nb.run.outcome import Outcome
    from naive_nb.run.store import Damage

__all__ = [
    "REFUSAL_CODES",
    "CacheMiss",
    "EmptyResult",
    "InterruptReport",
    "JobProblem",
    "PlanProblem",
    "Refusal",
    "RunInterrupted",
    "RunProblem",
    "RunRecordProblem",
    "SelectionProblem",
    "SweepError",
]


class _Coded:
    """``code``, ``field`` and ``detail``: what a front end words a problem from."""

    code: str
    field: str | None
    detail: dict[str, Any]

    def _coded(self, code: str, field: str | None, detail: Mapping[str, Any]) -> None:
        self.code = code
        self.field = field
        self.detail = dict(detail)


class RunProblem(_Coded, Exception):
    """A run-layer problem; ``str()`` is a plain fallback, front ends word it from the fields."""

    def __init__(self, code: str, message: str, *, field: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self._coded(code, field, detail)


class PlanProblem(RunProblem):
    """A request refused while planning it, nothing sent. Codes: ``refused_values`` (``detail``
    ``refusals``: each :class:`Refusal`), ``too_many_jobs``, ``undocumented_model_cache_only``,
    ``seeds_twice``, ``fixed_and_varied`` and ``key_twice`` (a key set twice: ``key``,
    ``axis``/``axes``), ``vary_seeds_axis`` (``name``, ``axes``), ``over_cap`` (a run above a
    front end's confirmation cap: ``images``, ``jobs``, ``credits``, ``usd``, ``cap``,
    ``limit``)."""


#: why a value of an axis is refused
REFUSAL_CODES = (
    "invalid",  # the validator refused the job it makes (``error``: its ValidationError)
    "search_not_found",  # a search/replace term the prompt does not hold (``detail["prompt"]``)
    "search_overlap",  # two search/replace axes overlap (``detail["other"]``: the other axis)
)


@dataclass(frozen=True)
class Refusal:
    """One value of one axis that cannot run: ``axis`` (its label), the ``value`` and how its
    header ``shown`` it, why (``code``: :data:`REFUSAL_CODES`), the ``model`` of the job it
    made, and the validator's ``error`` for ``invalid``."""

    axis: str
    value: Any
    shown: str
    code: str
    model: str
    error: ValidationError | None = None
    detail: Mapping[str, Any] | None = None

    def plain(self) -> str:
        """A plain account (no front end's words), for ``str(PlanProblem)``."""
        if self.code == "search_not_found":
            return f"{self.axis}: {self.shown!r} is not in the prompt"
        if self.code == "search_overlap":
            other = (self.detail or {}).get("other", "")
            return f"{self.axis}: its term overlaps the axis {other!r}"
        return f"{self.axis}={self.shown}: {self.error}"


class SweepError(RunProblem, ValueError):
    """A list of values (``field``: ``seeds``, or the input key it sweeps) that cannot be
    expanded; ``detail`` holds the text or item at fault. Codes: ``empty``, ``empty_item``,
    ``not_understood``, ``zero_step``, ``never_reaches``, ``count_below_one``, ``out_of_range``,
    ``too_many``, ``repeated``.

    The sentence explains the list syntax, which is the same whoever typed it: a front end has
    it said with its own name for the field (:meth:`describe`, e.g. a flag or a widget label).
    """

    def __init__(self, code: str, template: str, *, field: str, **detail: Any) -> None:
        self.template = template
        super().__init__(code, template.format(name=field, **detail), field=field, **detail)

    def describe(self, name: str) -> str:
        """The problem, calling the field ``name``."""
        return self.template.format(name=name, **self.detail)


class SelectionProblem(RunProblem, LookupError):
    """A selection of a result (``select(model=...)``) that names no axis (``no_axis``,
    ``axes``) or no value of its axis (``no_value``: ``axis``, ``values``), or a result without
    axes (``no_axes``). The message lists what there is."""


class CacheMiss(RunProblem, LookupError):
    """Cache-only, and no intact stored result for a request: ``cache_miss`` (``damage`` says
    what was found instead of a whole copy, when something was) or ``unseeded`` (a model that
    takes no seed: its requests are never cached)."""

    def __init__(self, key: str, model: str, seed: object, damage: Damage | None = None) -> None:
        if seed is None:
            code = "unseeded"
            message = (
                f"Cache only: {model} takes no seed, so each of its requests makes a new random "
                "image and none is ever cached."
            )
        else:
            code = "cache_miss"
            message = f"Cache only: no cached result for {model} with seed {seed} (key {key[:12]})."
        super().__init__(code, message, field="seeds", key=key, model=model, seed=seed)
        self.key = key
        self.model = model
        self.seed = seed
        self.damage = damage


class EmptyResult(RunProblem, ValueError):
    """A job with no images offered to the store: never a result, never written."""

    def __init__(self, job_id: str) -> None:
        super().__init__("no_images", f"job {job_id} has no images to store", job_id=job_id)
        self.job_id = job_id


class JobProblem(RunProblem):
    """One job that cannot be collected: ``ended`` (failed or cancelled: ``status``,
    ``reason``), ``not_ours`` (a claim whose record matches no request of this store)."""

    def __init__(self, code: str, job_id: str, message: str, **detail: Any) -> None:
        super().__init__(code, message, field="job_id", job_id=job_id, **detail)
        self.job_id = job_id


class RunRecordProblem(RunProblem, ValueError):
    """A run that cannot be rebuilt from what it left (:mod:`naive_nb.run.runs`): ``missing``
    (no such file), ``no_record`` (the source holds no naive-nb record: ``looked_for``),
    ``unreadable`` (a record that is not valid: ``reason``), ``not_sent`` (a job this store
    did not send, rebuilt from the server's record: ``job_id``, ``unknown``), ``no_request``
    (an output of an older version with several different jobs and no request),
    ``not_reproduced`` (the request, planned again, does not make the recorded jobs:
    ``missing_jobs``). ``field`` is ``source``."""

    def __init__(self, code: str, message: str, **detail: Any) -> None:
        super().__init__(code, message, field="source", **detail)


@dataclass(frozen=True)
class InterruptReport:
    """What a stopped run did about each job it had learnt of.

    ``cancelled``: cancelled on the server (one that had started may still be charged);
    ``finished``: (id, status) of jobs that ended before the cancel reached them;
    ``cancel_failed``: (id, error) of jobs that may still run and be charged (still journalled);
    the error is the exception the cancel raised (``TimeoutError`` when no answer came);
    ``submit``: the client's account of a submit cut short (its own fields say what became of it).
    """

    cancelled: tuple[str, ...] = ()
    finished: tuple[tuple[str, str], ...] = ()
    cancel_failed: tuple[tuple[str, BaseException], ...] = ()
    submit: Interrupted | None = None

    def describe(self) -> str:
        """A plain account (no front end's words), for ``str(RunInterrupted)``."""
        parts = []
        if self.cancelled:
            parts.append(
                f"Interrupted: cancelled job {', '.join(self.cancelled)} on the server (a job "
                "that had already started may still be charged)."
            )
        if self.submit is not None:
            job = self.submit.job_id
            parts.append(
                f"The interrupted submit: {_SUBMIT.get(self.submit.outcome, '')}".format(job)
            )
        if self.finished:
            shown = ", ".join(f"{job} ({status})" for job, status in self.finished)
            parts.append(f"Already finished, so not cancelled: {shown}.")
        if self.cancel_failed:
            shown = ", ".join(
                f"{job} ({getattr(why, 'summary', None) or why})" for job, why in self.cancel_failed
            )
            parts.append(f"Could not cancel {shown}: it may still run and be charged.")
        if not parts:
            return "Interrupted: no job was still running."
        text = " ".join(parts)
        return text if text.startswith("Interrupted") else f"Interrupted. {text}"


#: what became of the job of an interrupted submit, by the client's ``Interrupted.outcome``
_SUBMIT = {
    "cancelled": "job {} was cancelled on the server.",
    "already_finished": "job {} had already finished.",
    "cancel_failed": "cancelling job {} failed; it may still run and be charged.",
    "not_sent": "nothing was sent, no job was created.",
    "not_created": "the server has no job for it, none was created.",
    "unknown": "could not tell whether it created a job.",
}


class RunInterrupted(_Coded, KeyboardInterrupt):
    """Ctrl-C (or a cancel token) stopped a run; ``report`` says what became of each job and
    ``outcome`` holds what had finished (kept in the store) before it stopped."""

    def __init__(self, report: InterruptReport, outcome: Outcome | None = None) -> None:
        super().__init__(report.describe())
        self._coded("interrupted", None, {"report": report})
        self.report = report
        self.outcome = outcome
