"""An outcome laid out as a grid: :func:`layout` turns an ``Outcome`` into a ``GridLayout``.

The grid's dimensions are the plan's axes, in the plan's order (the first across, the second
down), and each job's place on them is the plan's too: nothing is guessed back from the inputs,
so any axis a front end plans (seeds, steps, guidance, a model, a prompt search/replace) lays
out the same way. What every job shares goes in the title; what differs labels each tile; a
failed job is a labelled blank tile in its place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from naive_nb.display.grid import GridLayout, Tile
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.records import JobRecord
from naive_nb.run.request import Axis

__all__ = ["FailureText", "axes_of", "layout", "title_of"]

FailureText = Callable[[FailedJob], str]
#: at most this many jobs of several images each are laid out as columns of images
MAX_IMAGE_COLUMNS = 8
_TITLE_KEYS = (
    ("image_size", "{}"),
    ("num_inference_steps", "{} steps"),
    ("guidance_scale", "cfg {}"),
    ("output_format", "{}"),
)
_SKIP_IN_TITLE = {"prompt", "seed", "num_images", "enable_safety_checker"}
# a result without a plan (one job collected on its own) varies nothing; older code paths that
# hand records only get the keys that differ between them, in this order
_DERIVED = (("seed", "seed"), ("num_inference_steps", "steps"), ("guidance_scale", "cfg"))


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path.as_posix()


def axes_of(outcome: Outcome) -> tuple[Axis, ...]:
    """The grid's axes: the plan's; without a plan, the keys whose values differ."""
    if outcome.plan is not None:
        return outcome.plan.axes
    inputs = [r.input for r in outcome.records] + [f.input for f in outcome.failures]
    found = []
    for key, name in _DERIVED:
        values = list(dict.fromkeys(json.dumps(data.get(key), sort_keys=True) for data in inputs))
        if len(values) > 1:
            found.append(Axis(key, tuple(json.loads(v) for v in values), name))
    return tuple(found)


def _axis_keys(axes: Sequence[Axis]) -> set[str]:
    keys: set[str] = set()
    for axis in axes:
        for value in axis.values:
            keys.update(axis.settings(value))
    return keys


def title_of(outcome: Outcome) -> str:
    """Model, the values every job shares, and the prompt (cut short)."""
    inputs = [(r.model, r.input) for r in outcome.records] + [
        (f.model, f.input) for f in outcome.failures
    ]
    model, first = inputs[0] if inputs else ("", {})
    varying = _axis_keys(axes_of(outcome))
    parts = [model]
    if "image_size" not in first and first:
        parts.append("square_hd")
    for key, template in _TITLE_KEYS:
        if key in first and key not in varying:
            value = first[key]
            if isinstance(value, dict):
                value = f"{value.get('width')}x{value.get('height')}"
            parts.append(template.format(value))
    for key in sorted(set(first) - _SKIP_IN_TITLE - {k for k, _ in _TITLE_KEYS} - varying):
        parts.append(f"{key}={first[key]}")
    prompt = str(first.get("prompt", ""))
    if len(prompt) > 90:
        prompt = prompt[:87] + "..."
    parts.append(repr(prompt))
    return " | ".join(p for p in parts if p)


def _label(axes: Sequence[Axis], coords: Sequence[Any], seed: int | None) -> str:
    if not axes:
        return f"seed {'random' if seed is None else seed}"
    pairs = zip(axes, coords, strict=False)  # a job without coords shows none
    return " | ".join(
        f"{axis.label} {seed if axis.key == 'seed' and seed is not None else value}"
        for axis, value in pairs
    )


def _coords(axes: Sequence[Axis], data: dict[str, Any]) -> tuple[Any, ...]:
    """A job's place on the axes, from its input (a job collected without its plan)."""
    found = []
    for axis in axes:
        value = next(
            (v for v in axis.values if all(data.get(k) == x for k, x in axis.settings(v).items())),
            data.get(axis.key),
        )
        found.append(value)
    return tuple(found)


def _record_tiles(record: JobRecord, axes: Sequence[Axis], coords: tuple[Any, ...]) -> list[Tile]:
    count = len(record.files)
    tiles = []
    for image in record.files:
        present = image.path.exists()
        # a model without a seed key: the seed the server reported, as the file name says
        seed = image.seed if image.seed is not None else record.seed
        label = _label(axes, coords, seed)
        tiles.append(
            Tile(
                caption=label + (f" #{image.index + 1}" if count > 1 else ""),
                data=image.path.read_bytes() if present else None,
                error=None if present else f"file missing: {image.path}",
                seed=seed,
                width=image.width,
                height=image.height,
                path=_relative(image.path),
                job_id=record.job_id,
            )
        )
    return tiles


def _jobs(
    outcome: Outcome, axes: Sequence[Axis], failure_text: FailureText
) -> list[tuple[tuple[Any, ...], list[Tile]]]:
    """(coords, tiles) of every job, in the order the jobs were asked."""
    plan = outcome.plan
    results: list[tuple[tuple[Any, ...], JobRecord | FailedJob]]
    if plan is not None and outcome.by_index:
        results = [
            (plan.jobs[index].coords, result) for index, result in sorted(outcome.by_index.items())
        ]
    else:
        results = [(_coords(axes, r.input), r) for r in outcome.records]
        results += [(_coords(axes, f.input), f) for f in outcome.failures]
    jobs = []
    for coords, result in results:
        if isinstance(result, JobRecord):
            jobs.append((coords, _record_tiles(result, axes, coords)))
        else:
            tile = Tile(
                caption=_label(axes, coords, result.seed),
                error=failure_text(result),
                seed=result.seed,
                job_id=result.job_id,
            )
            jobs.append((coords, [tile]))
    return jobs


def layout(outcome: Outcome, failure_text: FailureText) -> GridLayout:
    """The grid of ``outcome``; ``failure_text`` words a failed job's blank tile."""
    axes = axes_of(outcome)
    jobs = _jobs(outcome, axes, failure_text)
    title = title_of(outcome)
    preview = any(record.local_preview for record in outcome.records)
    per_job = max((len(tiles) for _, tiles in jobs), default=0)
    if len(axes) == 2:
        # an X/Y plot: the first axis across, the second down, one image per cell
        across, down = axes
        cells = {(_key(c[0]), _key(c[1])): tiles[0] for c, tiles in jobs if len(c) == 2}
        rows = tuple(
            tuple(cells.get((_key(x), _key(y))) for x in across.values) for y in down.values
        )
        return GridLayout(
            title=title,
            rows=rows,
            column_headers=tuple(f"{across.label} {x}" for x in across.values),
            row_headers=tuple(f"{down.label} {y}" for y in down.values),
            local_preview=preview,
        )
    if len(jobs) > 1 and per_job > 1 and len(jobs) <= MAX_IMAGE_COLUMNS:
        # one axis and several images per job: the axis across, image number down
        columns = [tiles[0].caption.split(" #")[0] for _, tiles in jobs]
        rows_of_tiles = tuple(
            tuple(tiles[i] if i < len(tiles) else None for _, tiles in jobs) for i in range(per_job)
        )
        return GridLayout(
            title=title,
            rows=rows_of_tiles,
            column_headers=tuple(columns),
            row_headers=tuple(f"image {i + 1}" for i in range(per_job)),
            local_preview=preview,
        )
    flat = [tile for _, tiles in jobs for tile in tiles]
    return GridLayout.wrapped(title, flat, local_preview=preview)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
