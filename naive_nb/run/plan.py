"""A request made concrete: :func:`plan` turns a :class:`Request` into a :class:`Plan`.

Planning writes the settings' defaults into each input (so a cache key names the full request),
draws a concrete seed for a request that names none (recorded in the plan), expands the axes
into one job per combination (the first axis outermost... in layout order: X, Y, Z, then more),
and checks every value of every axis with the client's validator, with each job's own model:
a request refused here sends nothing. Every refused value is found, not just the first, and each
is tied to the axis and value that caused it (:class:`Refusal`); a value no axis sets is refused
as the validator refuses it.

Which catalog it checks against is decided here, once per model. The documented catalog answers
without a request (a cache-only run, a cached re-run sends nothing); the server's catalog, which
may list models and parameters added since, is asked when they could disagree: an undocumented
model, or a key the documented entry lacks. A plan checked against the documented catalog only
is checked against the served one as well before its first job is sent
(:mod:`naive_nb.run.runner`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from naive_nb.client import ModelInfo, documented_model, validate_input
from naive_nb.errors import ValidationError
from naive_nb.run.cache import request_key
from naive_nb.run.problems import PlanProblem, Refusal
from naive_nb.run.request import Axis, Request
from naive_nb.run.settings import Settings
from naive_nb.run.sweep import RANDOM_SEED, random_seed

__all__ = ["MAX_JOBS", "Plan", "PlannedJob", "plan"]

#: the most jobs one run may make (a front end asks for confirmation well before this)
MAX_JOBS = 1024
#: the order a job's input is built in: whole prompts, then search/replace, then the rest
_PHASES = ("prompt", "replace")


@dataclass(frozen=True)
class PlannedJob:
    """One request of a run, complete and seeded, so its cache key is known before sending.

    ``coords`` are its values on the plan's axes, in the plan's axis order.
    """

    model: str
    input: dict[str, Any]
    coords: tuple[Any, ...] = field(default=(), compare=False)

    @cached_property
    def key(self) -> str:
        return request_key(self.model, self.input)

    @property
    def seed(self) -> int | None:
        seed = self.input.get("seed")
        return seed if isinstance(seed, int) else None

    @property
    def images(self) -> int:
        count = self.input.get("num_images", 1)
        return count if isinstance(count, int) else 1


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, decided before anything is sent.

    ``axes`` are the grid's dimensions in layout order (X across, Y down, Z one grid per value,
    then more), and each job's ``coords`` place it on them. ``model`` is the request's model
    (the first of a model axis); each job has its own. ``chosen_seed`` is the seed drawn for a
    request that named none. ``checked`` says which catalog checked the jobs (``documented``
    when any model was checked against the documented catalog only, else ``served``).
    """

    request: Request
    model: str
    jobs: tuple[PlannedJob, ...]
    axes: tuple[Axis, ...] = ()
    chosen_seed: int | None = None
    checked: str = "documented"
    refresh: bool = False
    cache_only: bool = False
    use_cache: bool = True
    timeout: float = 600.0

    @property
    def keys(self) -> list[str]:
        """The request keys in the order asked (a failed job keeps its place in a grid)."""
        return [job.key for job in self.jobs]

    @property
    def models(self) -> list[str]:
        """The models the jobs use, in order of first use."""
        return list(dict.fromkeys(job.model for job in self.jobs))

    @property
    def shape(self) -> tuple[int, ...]:
        """The number of values of each axis, in layout order."""
        return tuple(len(axis.values) for axis in self.axes)

    @property
    def images(self) -> int:
        """Images the grid shows (each job's ``num_images``)."""
        return sum(job.images for job in self.jobs)

    @property
    def unique(self) -> int:
        """Jobs to run: identical cells (one request key) run once."""
        return len(set(self.keys))

    @property
    def resolved(self) -> Request:
        """The request as it ran: a seed drawn for it written in, so it makes the same jobs."""
        if self.chosen_seed is None:
            return self.request
        return replace(self.request, seeds=(self.chosen_seed,))


def plan(
    request: Request,
    settings: Settings,
    served: Callable[[str], ModelInfo],
    *,
    placeholders: Mapping[str, Any] | None = None,
    pick_seed: Callable[[], int] = random_seed,
) -> Plan:
    """Plan ``request`` under ``settings``; ``served(model)`` asks the server's catalog.

    ``placeholders`` fill input keys the request leaves empty (a price needs no real prompt).
    Raises :class:`PlanProblem`, or the client's ``ValidationError`` naming the field, before
    anything is sent.
    """
    return _Planner(request, settings, served, placeholders, pick_seed).plan()


class _Planner:
    """One planning: the models' catalog entries, the jobs, and what is refused."""

    def __init__(
        self,
        request: Request,
        settings: Settings,
        served: Callable[[str], ModelInfo],
        placeholders: Mapping[str, Any] | None,
        pick_seed: Callable[[], int],
    ) -> None:
        self.request = request
        self.settings = settings
        self.served = served
        self.placeholders = placeholders
        self.pick_seed = pick_seed
        self.model = request.model or settings.model
        self.cache_only = request.cache_only or settings.cache_only
        self.infos: dict[str, ModelInfo] = {}
        self.asked: set[str] = set()  # models whose entry is the served catalog's
        self.refusals: dict[tuple[str, str, str, str], Refusal] = {}

    def plan(self) -> Plan:
        request = self.request
        axes = self._axes()
        _check_conflicts(request, axes)
        count = math.prod(len(axis.values) for axis in axes)
        if count > MAX_JOBS:
            raise PlanProblem(
                "too_many_jobs",
                f"This sweep makes {count} jobs; the limit is {MAX_JOBS} per run.",
                field="axes",
                jobs=count,
                limit=MAX_JOBS,
            )
        chosen = None
        seeded = bool(request.seeds) or any(axis.kind == "seed" for axis in axes)
        base_seed: int | None = request.seeds[0] if len(request.seeds) == 1 else None
        if base_seed == int(RANDOM_SEED) or (not seeded and self._any_takes_seed(axes)):
            chosen = base_seed = self.pick_seed()
        varied = _varied(request.vary_seeds, axes)
        jobs = []
        for values in itertools.product(*(axis.values for axis in axes)):
            job = self._job(axes, values, base_seed, seeded)
            if job is not None and varied:
                job = _offset_seed(job, axes, values, varied)
            if job is not None:
                jobs.append(job)
        if self.refusals:
            raise PlanProblem(
                "refused_values",
                "; ".join(r.plain() for r in self.refusals.values()),
                field="axes",
                refusals=list(self.refusals.values()),
            )
        return Plan(
            request=request,
            model=self._models(axes)[0],
            jobs=tuple(jobs),
            axes=axes,
            chosen_seed=chosen,
            checked="documented" if set(self.infos) - self.asked else "served",
            refresh=request.refresh,
            cache_only=self.cache_only,
            use_cache=self.settings.cache,
            timeout=request.timeout or self.settings.timeout,
        )

    # -- the axes and the models --------------------------------------------------------------
    def _axes(self) -> tuple[Axis, ...]:
        axes = tuple(axis for axis in self.request.axes if axis.values)
        seeds = self.request.seeds
        if len(seeds) > 1:
            if any(axis.kind == "seed" for axis in axes):
                raise PlanProblem(
                    "seeds_twice",
                    "Seeds are given twice: as a list of seeds and as a seed axis; keep one.",
                    field="seeds",
                )
            return (Axis("seed", tuple(seeds), "seed", "seed"), *axes)
        return axes

    def _models(self, axes: Sequence[Axis]) -> list[str]:
        """The plan's models in order of use (the request's for a job no axis gives one)."""
        found = [
            axis.settings(value).get("model", self.model)
            for axis in axes
            if "model" in axis.keys
            for value in axis.values
        ]
        return list(dict.fromkeys(found)) or [self.model]

    def _any_takes_seed(self, axes: Sequence[Axis]) -> bool:
        """Whether a random seed is worth drawing: some model of the plan takes one (a model
        that is refused counts as taking one; its refusal is said later)."""
        for model in self._models(axes):
            info = self._info(model, None, quiet=True)
            if info is None or "seed" in info.key_params:
                return True
        return False

    def _info(
        self, model: str, blame: tuple[Axis, Any] | None, *, quiet: bool = False
    ) -> ModelInfo | None:
        """The catalog entry of ``model``; None when it is refused: as a refusal of the axis
        value in ``blame``, or (``quiet``) not yet, its refusal said when its job is built."""
        if model in self.infos:
            return self.infos[model]
        documented = documented_model(model)
        if documented is not None:
            self.infos[model] = documented
            return documented
        if self.cache_only:  # the served catalog is a request away, and cache-only sends none
            raise PlanProblem(
                "undocumented_model_cache_only",
                f"A cache-only run checks requests against the documented models only, and "
                f"{model!r} is not one of them.",
                field="model",
                model=model,
            )
        try:
            info = self.served(model)
        except ValidationError as error:
            if quiet:
                return None
            if blame is None:
                raise
            self._refuse(*blame, model, error)
            return None
        self.infos[model] = info
        self.asked.add(model)
        return info

    def _served_instead(self, model: str, error: ValidationError) -> ModelInfo | None:
        """The served entry of a documented ``model`` when ``error`` is about a key the
        documented entry lacks (the server may take it: value rules are the validator's own,
        only the keys a model takes come from a catalog)."""
        key = (error.field or "").removeprefix("input.")
        documented = self.infos.get(model)
        if self.cache_only or model in self.asked or documented is None:
            return None
        if key in documented.key_params:
            return None
        self.infos[model] = self.served(model)
        self.asked.add(model)
        return self.infos[model]

    # -- one job --------------------------------------------------------------------------------
    def _job(
        self, axes: Sequence[Axis], values: Sequence[Any], seed: int | None, seeded: bool
    ) -> PlannedJob | None:
        pairs = list(zip(axes, values, strict=True))
        model = self.model
        for axis, value in pairs:
            model = axis.settings(value).get("model", model) if "model" in axis.keys else model
        model_axis = next(((a, v) for a, v in pairs if "model" in a.settings(v)), None)
        info = self._info(model, model_axis)
        if info is None:
            return None
        data = _base_input(self.request, self.settings, info, self.placeholders)
        data["model"] = model
        found = True
        for phase in (*_PHASES, ""):
            for axis, value in pairs:
                if (axis.kind if axis.kind in _PHASES else "") != phase:
                    continue
                if axis.kind == "replace" and not self._found(axis, value, data, pairs):
                    found = False  # refused; the job's other values are checked all the same
                    continue
                axis.apply(data, value)
        data.pop("model")
        if "seed" not in data and seed is not None and ("seed" in info.key_params or seeded):
            data["seed"] = seed
        job = PlannedJob(model, data, tuple(values))
        return job if self._valid(job, info, pairs) and found else None

    def _found(
        self, axis: Axis, value: Any, data: dict[str, Any], pairs: Sequence[tuple[Axis, Any]]
    ) -> bool:
        """Whether ``axis``'s search term is in the prompt (or negative prompt) it applies to,
        and overlaps no later search/replace axis; else the refusal is recorded."""
        if self.placeholders and not self.request.prompt:
            return True  # a price: no prompt to search
        texts: list[str] = [
            t for t in (data.get("prompt"), data.get("negative_prompt")) if isinstance(t, str)
        ]
        if not any(axis.search in text for text in texts):
            prompt = texts[0] if texts else ""
            self._refuse(axis, axis.search, data["model"], None, "search_not_found", prompt=prompt)
            return False
        later = [a for a, _ in pairs if a.kind == "replace" and a is not axis]
        for other in later[later.index(axis) + 1 :] if axis in later else later:
            if _overlap(axis, other, texts, value):
                self._refuse(
                    axis, axis.search, data["model"], None, "search_overlap", other=other.label
                )
                return False
        return True

    def _valid(self, job: PlannedJob, info: ModelInfo, pairs: Sequence[tuple[Axis, Any]]) -> bool:
        try:
            validate_input(info, job.input)
        except ValidationError as error:
            better = self._served_instead(job.model, error)
            if better is not None:
                return self._valid(job, better, pairs)
            blamed = _blame(error, pairs)
            if blamed is None:
                raise  # no axis sets it: the request itself is refused, as before any sweep
            self._refuse(*blamed, job.model, error)
            return False
        return True

    def _refuse(
        self,
        axis: Axis,
        value: Any,
        model: str,
        error: ValidationError | None,
        code: str = "invalid",
        **detail: Any,
    ) -> None:
        # a refused model is named in full (its header's short name may be what is wrong)
        shown = axis.show(value) if code == "invalid" and axis.kind != "model" else str(value)
        rule = (error.field or "", error.rule or "") if error is not None else ("", "")
        key = (axis.label, shown, *rule)
        if key not in self.refusals:
            self.refusals[key] = Refusal(axis.label, value, shown, code, model, error, detail)


def _check_conflicts(request: Request, axes: Sequence[Axis]) -> None:
    """A key set twice (two axes, or an axis and a fixed value) is refused: which would win?"""
    owners: dict[str, str] = {}
    fixed = set(request.params) | ({"model"} if request.model else set())
    if request.prompt:
        fixed.add("prompt")
    for axis in axes:
        for key in axis.keys:
            if axis.kind == "replace":
                continue  # search/replace changes the prompt, whoever sets it
            if key in fixed or (key == "seed" and len(request.seeds) == 1):
                raise PlanProblem(
                    "fixed_and_varied",
                    f"{key} is given one value and also varied by the axis {axis.label!r}; "
                    "keep one.",
                    field=key,
                    axis=axis.label,
                    key=key,
                )
            if key in owners:
                raise PlanProblem(
                    "key_twice",
                    f"{key} is varied by two axes ({owners[key]!r} and {axis.label!r}); merge "
                    "them into one.",
                    field=key,
                    axes=[owners[key], axis.label],
                    key=key,
                )
            owners[key] = axis.label


def _varied(names: Sequence[str], axes: Sequence[Axis]) -> list[int]:
    """The positions of the axes whose values change the seed too."""
    positions = []
    for name in names:
        found = [n for n, axis in enumerate(axes) if name in (axis.label, axis.key)]
        if not found or axes[found[0]].kind == "seed":
            raise PlanProblem(
                "vary_seeds_axis",
                f"Seeds can vary along an axis of the sweep other than the seeds; {name!r} is "
                "not one.",
                field="vary_seeds",
                name=name,
                axes=[axis.label for axis in axes if axis.kind != "seed"],
            )
        positions.append(found[0])
    return sorted(set(positions))


def _offset_seed(
    job: PlannedJob, axes: Sequence[Axis], values: Sequence[Any], varied: Sequence[int]
) -> PlannedJob:
    """AUTOMATIC1111's "Vary seeds for X/Y/Z" (PR #12180): the seed plus the value's index on
    the first varied axis, plus the index on the next times the first's length, and so on."""
    if job.seed is None:
        return job
    offset, scale = 0, 1
    for position in varied:
        offset += axes[position].values.index(values[position]) * scale
        scale *= len(axes[position].values)
    return PlannedJob(job.model, {**job.input, "seed": job.seed + offset}, job.coords)


def _overlap(first: Axis, second: Axis, texts: Sequence[str], value: Any) -> bool:
    """Two search/replace axes that would change each other's text (AUTOMATIC1111 #3808): their
    terms overlap where they occur, or the first one's replacement holds the second's term."""
    if second.search in str(value) and value != first.search:
        return True
    for text in texts:
        spans = [_spans(text, first.search), _spans(text, second.search)]
        if any(a < d and c < b for a, b in spans[0] for c, d in spans[1]):
            return True
    return False


def _spans(text: str, term: str) -> list[tuple[int, int]]:
    found, start = [], text.find(term)
    while term and start >= 0:
        found.append((start, start + len(term)))
        start = text.find(term, start + 1)
    return found


def _blame(error: ValidationError, pairs: Sequence[tuple[Axis, Any]]) -> tuple[Axis, Any] | None:
    """The axis value that a refusal is about: the one setting the refused key, or the model's
    (a key its model does not take, or takes in another range), or None (no axis)."""
    key = (error.field or "").removeprefix("input.")
    by_model = next(((a, v) for a, v in pairs if "model" in a.settings(v)), None)
    setting = next(((a, v) for a, v in pairs if key in a.settings(v) and a.kind != "replace"), None)
    if key == "prompt":
        setting = setting or next(((a, v) for a, v in pairs if a.kind == "replace"), None)
    if error.rule in ("not_taken", "required", "unknown_model") or key == "model":
        return by_model or setting
    # a range of the model's own (steps): a fixed value one model of the axis refuses
    return setting or (by_model if error.model else None)


def _base_input(
    request: Request,
    settings: Settings,
    info: ModelInfo,
    placeholders: Mapping[str, Any] | None,
) -> dict[str, Any]:
    base: dict[str, Any] = {}
    if request.prompt or info.mode != "image-to-image":  # image-to-image: the prompt is optional
        base["prompt"] = request.prompt
    defaults = {
        "image_size": settings.image_size,
        "num_images": settings.num_images,
        "output_format": settings.output_format,
    }
    for key, value in defaults.items():
        # defaults are written out, so the cache key names the full request
        if key in info.key_params and value is not None and key not in request.params:
            base[key] = value
    base.update(request.params)
    for key, value in (placeholders or {}).items():
        if key in info.key_params and not base.get(key):
            base[key] = value
    return base
