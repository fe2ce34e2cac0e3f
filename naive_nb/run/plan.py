"""A request made concrete: :func:`plan` turns a :class:`Request` into a :class:`Plan`.

Planning writes the settings' defaults into each input (so a cache key names the full request),
draws a concrete seed for a request that names none (recorded in the plan), expands the seeds
and the axes into one job per combination, keeps the axes and their order (the grid's layout),
and checks every job with the client's validator: a request refused here sends nothing.

Which catalog it checks against is decided here, once. The documented catalog answers without a
request (a cache-only run, a cached re-run sends nothing); the server's catalog, which may list
models and parameters added since, is asked when they could disagree: an undocumented model, or a
key the documented entry lacks. A plan checked against the documented catalog only is checked
against the served one as well before its first job is sent (:mod:`naive_nb.run.runner`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from naive_nb.client import ModelInfo, documented_model, validate_input
from naive_nb.errors import ValidationError
from naive_nb.run.cache import request_key
from naive_nb.run.problems import PlanProblem
from naive_nb.run.request import Axis, Request
from naive_nb.run.settings import Settings
from naive_nb.run.sweep import MAX_SWEEP, random_seed

__all__ = ["MAX_AXES", "Plan", "PlannedJob", "expand", "plan"]

#: a grid has two dimensions: seeds and one other axis, or two axes with one seed
MAX_AXES = 2


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


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, decided before anything is sent.

    ``axes`` are the grid's dimensions in order (the seeds first when there are several), and
    each job's ``coords`` place it on them. ``chosen_seed`` is the seed drawn for a request that
    named none. ``checked`` says which catalog checked the jobs (``documented`` or ``served``).
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


def expand(
    model: str,
    base: Mapping[str, Any],
    seeds: Sequence[int | None],
    axes: Sequence[Axis] = (),
) -> list[PlannedJob]:
    """One job per seed and per combination of axis values (``None`` seed: a model without
    one), seeds outermost, then each axis in order; each job knows its place on the axes."""
    seeded = len(seeds) > 1
    jobs = []
    for seed, *values in itertools.product(seeds, *(axis.values for axis in axes)):
        data = dict(base)
        for axis, value in zip(axes, values, strict=True):
            data.update(axis.settings(value))
        if seed is not None:
            data["seed"] = seed
        coords = ((seed,) if seeded else ()) + tuple(values)
        jobs.append(PlannedJob(model, data, coords))
    return jobs


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
    model = request.model or settings.model
    cache_only = request.cache_only or settings.cache_only
    documented = documented_model(model)
    if documented is None:
        if cache_only:  # the served catalog is a request away, and cache-only sends none
            raise PlanProblem(
                "undocumented_model_cache_only",
                f"A cache-only run checks requests against the documented models only, and "
                f"{model!r} is not one of them.",
                field="model",
                model=model,
            )
        return _plan_for(request, settings, served(model), "served", placeholders, pick_seed)
    try:
        return _plan_for(request, settings, documented, "documented", placeholders, pick_seed)
    except ValidationError as error:
        # value rules are the validator's own; only the keys a model takes come from a catalog,
        # so only a key the documented entry lacks is worth asking the server about
        key = (error.field or "").removeprefix("input.")
        if cache_only or key in documented.key_params:
            raise
    return _plan_for(request, settings, served(model), "served", placeholders, pick_seed)


def _plan_for(
    request: Request,
    settings: Settings,
    info: ModelInfo,
    checked: str,
    placeholders: Mapping[str, Any] | None,
    pick_seed: Callable[[], int],
) -> Plan:
    base = _base_input(request, settings, info, placeholders)
    chosen: int | None = None
    if "seed" not in info.key_params:
        if request.seeds:
            validate_input(info, {**base, "seed": 0})  # names the model that takes no seed
        seeds: list[int | None] = [None]
    elif request.seeds:
        seeds = list(request.seeds)
    else:
        chosen = pick_seed()
        seeds = [chosen]
    axes = tuple(axis for axis in request.axes if axis.values)
    if len(seeds) > 1:
        axes = (Axis("seed", tuple(seeds), "seed"), *axes)
    if len(axes) > MAX_AXES:
        raise PlanProblem(
            "too_many_axes",
            f"At most {MAX_AXES} sweep axes at once; fix the others to one value.",
            field="axes",
            axes=[axis.label for axis in axes],
            limit=MAX_AXES,
        )
    if len(axes) == MAX_AXES and base.get("num_images", 1) != 1:
        raise PlanProblem(
            "grid_with_several_images",
            "With two sweep axes each cell of the grid is one image: ask for one image per job.",
            field="num_images",
        )
    jobs = expand(info.id, base, seeds, [a for a in axes if a.key != "seed"])
    if len(jobs) > MAX_SWEEP:
        raise PlanProblem(
            "too_many_jobs",
            f"This sweep makes {len(jobs)} jobs; the limit is {MAX_SWEEP} per run.",
            field="axes",
            jobs=len(jobs),
            limit=MAX_SWEEP,
        )
    for job in jobs:
        validate_input(info, job.input)
    return Plan(
        request=request,
        model=info.id,
        jobs=tuple(jobs),
        axes=axes,
        chosen_seed=chosen,
        checked=checked,
        refresh=request.refresh,
        cache_only=request.cache_only or settings.cache_only,
        use_cache=settings.cache,
        timeout=request.timeout or settings.timeout,
    )


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
