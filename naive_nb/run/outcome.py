"""How a run ended: :class:`Outcome`, with its records, its failures and what it found on the way.

Everything here is data with codes, never sentences: a front end words a :class:`FailedJob` from
its ``code`` and fields, an :class:`Adopted` job or a :class:`Repair` from theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from naive_nb.run.plan import PlannedJob
from naive_nb.run.records import JobRecord

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.run.plan import Plan
    from naive_nb.run.problems import InterruptReport
    from naive_nb.run.request import Axis
    from naive_nb.run.store import Damage

__all__ = [
    "FAILURE_CODES",
    "Adopted",
    "Cell",
    "FailedJob",
    "Outcome",
    "Repair",
    "cells",
    "reason_of",
    "rows",
    "select",
]

#: why a job of a run produced no image
FAILURE_CODES = (
    "failed",  # the server failed it (``reason``: its message)
    "cancelled",  # cancelled on the server
    "timeout",  # still running after the deadline (``timeout``): it stays journalled
    "lost_contact",  # the wait lost the server (``reason``: the error): it stays journalled
    "no_images",  # completed, yet no image could be stored: it stays journalled
    "download",  # completed, its images could not be downloaded (``reason``)
    "submit",  # the submit was refused (``reason``)
    "outcome_unknown",  # the submit's reply was lost; ``candidates`` are journalled
    "not_this_request",  # the candidate adopted turned out to be another request's job
)


@dataclass(frozen=True)
class FailedJob:
    """A cell of a run that produced no image: ``code`` is one of :data:`FAILURE_CODES`.

    ``still_running``: the job did not fail; it runs on on the server (deadline passed, contact
    lost, no images yet, a lost reply's candidates), may still be charged, and stays in the
    journal to be collected later. ``error`` is the exception behind it, kept whole for a front
    end to word (a client error keeps its parts: ``summary``, ``advice``, its fields); ``reason``
    is a plain account of it without advice (the server's message for ``failed``).
    """

    model: str
    input: dict[str, Any]
    code: str = "failed"
    job_id: str | None = None
    still_running: bool = False
    reason: str = ""
    candidates: tuple[str, ...] = ()
    timeout: float | None = None
    error: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def seed(self) -> int | None:
        seed = self.input.get("seed")
        return seed if isinstance(seed, int) else None

    def describe(self) -> dict[str, Any]:
        """The failure as plain data (for an output's provenance metadata)."""
        return {
            "model": self.model,
            "seed": self.seed,
            "job_id": self.job_id,
            "code": self.code,
            "reason": self.reason,
            "still_running": self.still_running,
        }


def reason_of(error: BaseException | None) -> str:
    """A plain account of ``error`` without advice: a client error's ``summary`` (its advice is
    written for the Python API), else its text."""
    if error is None:
        return ""
    summary = getattr(error, "summary", None)
    text = summary if isinstance(summary, str) and summary else str(error)
    return text.rstrip(". ") or type(error).__name__


@dataclass(frozen=True)
class Adopted:
    """A request of the run answered by a job the run did not submit.

    ``reason``: ``pending`` (an earlier run's job, still pending in the journal), or
    ``candidate`` (this run's submit lost its reply, and this job in the job list has the
    request's own prompt and seed, or could not yet be checked: ``verified``).
    """

    job_id: str
    seed: int | None
    reason: str
    verified: bool = True


@dataclass(frozen=True)
class Repair:
    """A damaged stored copy of one of the run's requests, and what became of it: fetched again
    from its job on the server (``refetched``: no new job, no new charge), or run again."""

    damage: Damage
    seed: int | None
    refetched: bool


@dataclass
class Outcome:
    """What a run (or the collection of one job) left: records in the order asked, failures,
    and what it found on the way (adopted jobs, repaired copies). ``plan`` is None for a job
    collected on its own. ``interrupted`` is set when the run was stopped."""

    plan: Plan | None = None
    records: list[JobRecord] = field(default_factory=list)
    failures: list[FailedJob] = field(default_factory=list)
    seconds: float = 0.0
    adopted: list[Adopted] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    interrupted: InterruptReport | None = None
    #: what each of the plan's jobs came to, by its index in the plan (a job a stopped run never
    #: reached has none): the grid's cells
    by_index: dict[int, JobRecord | FailedJob] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and self.interrupted is None

    @property
    def cached(self) -> int:
        """Jobs served from the store without a new job."""
        return sum(1 for r in self.records if r.from_cache)

    @property
    def cached_images(self) -> int:
        """Images served from the store (a copy fetched again from its job is not one)."""
        refetched = {r.damage.job_id for r in self.repairs if r.refetched}
        return sum(len(r.files) for r in self.records if r.from_cache and r.job_id not in refetched)

    @property
    def credits(self) -> float:
        """Credits this run spent (results served from the store cost nothing)."""
        return sum(r.credits_used or 0.0 for r in self.records if not r.from_cache)

    @property
    def job_ids(self) -> list[str]:
        """Every job id the run knows of: its records', then its failures'."""
        return [r.job_id for r in self.records] + [f.job_id for f in self.failures if f.job_id]

    def cells(self) -> list[Cell]:
        """Every cell of the grid, with its coordinates by axis label (:func:`cells`)."""
        return cells(self)

    def rows(self) -> list[dict[str, Any]]:
        """One row per image, for a table (:func:`rows`)."""
        return rows(self)

    def select(self, **values: Any) -> Outcome:
        """The cells with these axis values, as an outcome of their own (:func:`select`)."""
        return select(self, values)


# -- the result as data: cells by axis values, rows per image, a selection -----------------------
@dataclass(frozen=True)
class Cell:
    """One cell of a run's grid: the plan's job at ``index``, its ``coords`` by axis label, and
    what it came to (``result``: None when a stopped run never reached it). ``same_as`` is the
    index of the identical cell whose job it shares (identical cells run once)."""

    index: int
    coords: dict[str, Any]
    job: PlannedJob
    result: JobRecord | FailedJob | None
    same_as: int | None = None

    @property
    def status(self) -> str:
        """``done``, ``cached``, a failure's code (:data:`FAILURE_CODES`), or ``not_run``."""
        if isinstance(self.result, JobRecord):
            return "cached" if self.result.from_cache else "done"
        if isinstance(self.result, FailedJob):
            return self.result.code
        return "not_run"

    @property
    def seed(self) -> int | None:
        """The seed it ran with (the server's, for a model that takes none)."""
        if isinstance(self.result, JobRecord):
            return self.result.seed
        return self.job.seed


def cells(outcome: Outcome) -> list[Cell]:
    """Every cell of ``outcome``'s plan, in the plan's order (one per job asked)."""
    plan = outcome.plan
    if plan is None:  # a job collected on its own: its records are the cells
        return [Cell(n, {}, PlannedJob(r.model, r.input), r) for n, r in enumerate(outcome.records)]
    labels = [axis.label for axis in plan.axes]
    first: dict[str, int] = {}
    found = []
    for index, job in enumerate(plan.jobs):
        origin = first.setdefault(job.key, index)
        found.append(
            Cell(
                index,
                dict(zip(labels, job.coords, strict=False)),
                job,
                outcome.by_index.get(index),
                None if origin == index else origin,
            )
        )
    return found


def rows(outcome: Outcome) -> list[dict[str, Any]]:
    """One row per image (a cell without images: one row), for a table: the axis values, the
    model, the seed it ran with, the full input, the job id, status and failure, credits and
    seconds (on the cell whose job it was; a shared job's copies show none), and each image's
    file path, sha256 and size."""
    from naive_nb.run.estimate import job_seconds

    plan = outcome.plan
    varied = bool(plan and plan.request.vary_seeds)
    found: list[dict[str, Any]] = []
    for cell in cells(outcome):
        result = cell.result
        row: dict[str, Any] = dict(cell.coords)
        if varied and "seed" in row:
            row["seed_axis"] = row["seed"]  # the axis value; the seed it ran with follows
        record = result if isinstance(result, JobRecord) else None
        failure = result if isinstance(result, FailedJob) else None
        row.update(
            model=cell.job.model,
            seed=cell.seed,
            input=dict(cell.job.input),
            job_id=result.job_id if result is not None else None,
            status=cell.status,
            failure=failure,
            error=failure.reason or failure.code if failure is not None else None,
            credits=None,
            seconds=None,
            same_as=cell.same_as,
        )
        if record is not None and cell.same_as is None:
            row["credits"] = 0.0 if record.from_cache else record.credits_used
            row["seconds"] = job_seconds(record)
        images = record.files if record is not None else ()
        for image in images or (None,):
            found.append(
                {
                    **row,
                    "image": image.index if image else None,
                    "path": str(image.path) if image else None,
                    "sha256": image.sha256 if image else None,
                    "width": image.width if image else None,
                    "height": image.height if image else None,
                }
            )
    return found


def select(outcome: Outcome, values: Mapping[str, Any]) -> Outcome:
    """The part of ``outcome`` whose cells have the given values: ``{axis: value}`` or
    ``{axis: [values]}``; an axis is named by its label, its input key or a short name
    (``steps``), a value as it was sent or as its header shows it (``"flux/dev"``, ``"3.5"``).
    The grid keeps the selected axes (with the values chosen) in their order."""
    from naive_nb.run.axes import key_of
    from naive_nb.run.problems import SelectionProblem

    plan = outcome.plan
    if plan is None:
        raise SelectionProblem("no_axes", "This result has no axes to select by.", axes=[])
    kept = list(plan.axes)
    wanted: dict[int, list[Any]] = {}
    for name, asked in values.items():
        position = next(
            (
                n
                for n, axis in enumerate(plan.axes)
                if name in (axis.label, axis.key) or key_of(name) in (axis.key, axis.label)
            ),
            None,
        )
        if position is None:
            labels = [axis.label for axis in plan.axes]
            raise SelectionProblem(
                "no_axis",
                f"No axis {name!r}; the axes are {', '.join(labels) or 'none'}.",
                field=name,
                axes=labels,
            )
        axis = plan.axes[position]
        choices = list(asked) if isinstance(asked, (list, tuple, set, frozenset)) else [asked]
        chosen = [v for v in axis.values if any(_same(axis, v, c) for c in choices)]
        if not chosen:
            shown = [axis.show(v) for v in axis.values]
            raise SelectionProblem(
                "no_value",
                f"The axis {axis.label!r} has no value {asked!r}; its values are "
                f"{', '.join(shown)}.",
                field=name,
                axis=axis.label,
                values=shown,
            )
        wanted[position] = chosen
        kept[position] = replace(axis, values=tuple(chosen))
    indices = [
        n
        for n, job in enumerate(plan.jobs)
        if all(job.coords[p] in chosen for p, chosen in wanted.items())
    ]
    jobs = tuple(plan.jobs[n] for n in indices)
    by_index = {
        new: outcome.by_index[old] for new, old in enumerate(indices) if old in outcome.by_index
    }
    records: list[JobRecord] = []
    failures: list[FailedJob] = []
    for result in by_index.values():
        target: list[Any] = records if isinstance(result, JobRecord) else failures
        if not any(result is seen for seen in target):
            target.append(result)
    return Outcome(
        plan=replace(plan, jobs=jobs, axes=tuple(kept)),
        records=records,
        failures=failures,
        seconds=outcome.seconds,
        interrupted=outcome.interrupted,
        by_index=by_index,
    )


def _same(axis: Axis, value: Any, asked: Any) -> bool:
    """Whether ``asked`` names ``value`` of ``axis`` (as sent, or as its header shows it)."""
    if isinstance(asked, bool) or isinstance(value, bool):
        return asked is value
    if value == asked:
        return True
    return (isinstance(asked, (str, int, float)) and axis.show(value) == str(asked)) or (
        axis.kind == "model" and isinstance(asked, str) and str(value).endswith("/" + asked)
    )
