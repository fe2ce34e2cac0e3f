"""An outcome laid out as a grid: :func:`build` turns an ``Outcome`` into a ``GridLayout``.

The grid's dimensions are the plan's axes, placed by an :class:`Arrangement` (by default in the
plan's order: X across, Y down, Z and further axes as sections; see
:mod:`naive_nb.display.arrangement`), and each job's place on them is the plan's too: nothing
is guessed back from the inputs, so any axis a front end plans lays out the same way.

- What every tile shown shares goes in the title; headers name the axes' values; a tile's
  caption keeps only what differs and no header says (its image number, a seed varied along an
  axis), the renderers drop the parts the headers already show.
- A failed job is a labelled blank tile in its place (its code and the job id); a job a
  stopped run never reached is a ``not run`` tile: the grid keeps its shape.
- The several images of one job are packed in its cell, or (one axis, a few jobs) laid out
  down the rows, one row per image number.
- Paths are relative to the working directory (the notebook's), never absolute.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from naive_nb.display.arrangement import Arrangement, arrange, header
from naive_nb.display.grid_model import Cell, GridLayout, Pack, Section, Tile
from naive_nb.display.paths import shown_path
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.records import JobRecord
from naive_nb.run.request import Axis

__all__ = [
    "NOT_RUN",
    "FailureText",
    "Placed",
    "axes_of",
    "build",
    "layout",
    "title_of",
]

FailureText = Callable[[FailedJob], str]
#: at most this many jobs of several images each are laid out as columns of images
MAX_IMAGE_COLUMNS = 8
#: the code of the tile of a job a stopped run never reached
NOT_RUN = "not_run"
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


@dataclass(frozen=True)
class Placed:
    """One job shown in a grid: where (section heading, row, column), its values on the axes
    (by axis name, as headers show them) and what became of it (None: never reached)."""

    section: str
    row: int
    column: int
    coords: dict[str, Any]
    result: JobRecord | FailedJob | None
    model: str
    input: dict[str, Any]


@dataclass(frozen=True)
class _Job:
    coords: tuple[Any, ...]
    result: JobRecord | FailedJob | None
    model: str
    input: dict[str, Any]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


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


def _jobs(outcome: Outcome, axes: Sequence[Axis]) -> list[_Job]:
    """Every job, in the order asked; with a plan, the ones a stopped run never reached too."""
    plan = outcome.plan
    if plan is not None and (outcome.by_index or not (outcome.records or outcome.failures)):
        jobs = []
        for index, planned in enumerate(plan.jobs):
            result = outcome.by_index.get(index)
            jobs.append(_Job(planned.coords, result, planned.model, planned.input))
        return jobs
    found: list[_Job] = [_Job(_coords(axes, r.input), r, r.model, r.input) for r in outcome.records]
    found += [_Job(_coords(axes, f.input), f, f.model, f.input) for f in outcome.failures]
    return found


def _caption(axes: Sequence[Axis], coords: Sequence[Any], seed: int | None) -> str:
    if not axes:
        return f"seed {'random' if seed is None else seed}"
    pairs = zip(axes, coords, strict=False)  # a job without coords shows none
    return " | ".join(
        f"{axis.label} {seed}" if axis.key == "seed" and seed is not None else header(axis, value)
        for axis, value in pairs
    )


def _job_tiles(job: _Job, axes: Sequence[Axis], failure_text: FailureText) -> list[Tile]:
    result = job.result
    seed = job.input.get("seed") if isinstance(job.input.get("seed"), int) else None
    if result is None:
        return [Tile(caption=_caption(axes, job.coords, seed), error="not run", code=NOT_RUN)]
    if isinstance(result, FailedJob):
        return [
            Tile(
                caption=_caption(axes, job.coords, result.seed),
                error=failure_text(result),
                seed=result.seed,
                job_id=result.job_id,
                code=result.code,
            )
        ]
    count = len(result.files)
    tiles = []
    for image in result.files:
        present = image.path.exists()
        # a model without a seed key: the seed the server reported, as the file name says
        image_seed = image.seed if image.seed is not None else result.seed
        caption = _caption(axes, job.coords, image_seed)
        where = shown_path(image.path)
        tiles.append(
            Tile(
                caption=caption + (f" #{image.index + 1}" if count > 1 else ""),
                data=image.path.read_bytes() if present else None,
                error=None if present else f"file missing: {where}",
                seed=image_seed,
                width=image.width,
                height=image.height,
                path=where,
                job_id=result.job_id,
                code=None if present else "file_missing",
                sha256=image.sha256,
                source=image.path if present else None,
            )
        )
    return tiles


def _with_varying_seeds(tiles: list[Tile], axes: Sequence[Axis]) -> list[Tile]:
    """Seeds that differ from tile to tile without a seed axis (varied along another axis)
    are what a reader cannot tell from the headers: they go into the captions."""
    if any(axis.key == "seed" for axis in axes):
        return tiles
    if len({tile.seed for tile in tiles if tile.seed is not None}) <= 1:
        return tiles
    out = []
    for tile in tiles:
        base, hash_, number = tile.caption.partition(" #")
        if tile.seed is None or f"seed {tile.seed}" in base.split(" | "):
            out.append(tile)
            continue
        caption = f"{base} | seed {tile.seed}" + hash_ + number
        out.append(replace(tile, caption=caption))
    return out


def title_of(outcome: Outcome, shown: Sequence[tuple[str, dict[str, Any]]] | None = None) -> str:
    """Model, the values every job shown shares, and the prompt (cut short)."""
    if shown is None:
        shown = [(r.model, r.input) for r in outcome.records] + [
            (f.model, f.input) for f in outcome.failures
        ]
    if not shown:
        return ""
    models = {model for model, _ in shown}
    first = shown[0][1]
    same = {
        key
        for key in first
        if all(_key(data.get(key)) == _key(first[key]) for _, data in shown[1:])
    }
    parts = [next(iter(models))] if len(models) == 1 else []
    if "image_size" not in first and first:
        parts.append("square_hd")
    for key, template in _TITLE_KEYS:
        if key in same:
            value = first[key]
            if isinstance(value, dict):
                value = f"{value.get('width')}x{value.get('height')}"
            parts.append(template.format(value))
    for key in sorted(same - _SKIP_IN_TITLE - {k for k, _ in _TITLE_KEYS}):
        parts.append(f"{key}={first[key]}")
    prompt = str(first.get("prompt", "")) if "prompt" in same else ""
    if not prompt and outcome.plan is not None:
        prompt = outcome.plan.request.prompt  # a prompt axis: the prompt it varies
    if len(prompt) > 90:
        prompt = prompt[:87] + "..."
    if prompt or "prompt" in same:  # an axis of whole prompts: the headers show them, not ''
        parts.append(repr(prompt))
    return " | ".join(p for p in parts if p)


def _cell(tiles: Sequence[Tile]) -> Cell:
    if not tiles:
        return None
    return tiles[0] if len(tiles) == 1 else Pack(tuple(tiles))


def build(
    outcome: Outcome,
    failure_text: FailureText,
    arrangement: Arrangement | None = None,
) -> tuple[GridLayout, list[Placed]]:
    """The grid of ``outcome`` (``failure_text`` words a failed job's blank tile) and where
    each job shown went."""
    axes = axes_of(outcome)
    arrangement = arrangement or arrange(axes)
    jobs = _jobs(outcome, axes)
    by_coords = {tuple(_key(c) for c in job.coords): job for job in jobs}
    names = [axis.label for axis in axes]

    def job_at(values: dict[int, Any]) -> _Job | None:
        coords = tuple(_key(values.get(i, arrangement.values[i][0])) for i in range(len(axes)))
        return by_coords.get(coords)

    shown_jobs: list[tuple[_Job, str, int, int]] = []
    preview = any(record.local_preview for record in outcome.records)
    on_screen = (arrangement.cols, arrangement.rows, *arrangement.sectioned)
    if not axes or all(index is None for index in on_screen):
        # nothing varies on screen: one job (or all fixed) laid out as a row of its images
        chosen = jobs if not axes else [j for j in [job_at({})] if j is not None]
        grid, places = _flat(chosen, axes, failure_text, preview)
        shown_jobs = [
            (job, "", row, column) for job, (row, column) in zip(chosen, places, strict=True)
        ]
    elif arrangement.wrap:
        assert arrangement.cols is not None
        across = arrangement.cols
        found = (job_at({across: value}) for value in arrangement.values[across])
        chosen = [job for job in found if job is not None]
        grid, places = _flat(chosen, axes, failure_text, preview, axes[across])
        shown_jobs = [
            (job, "", row, column) for job, (row, column) in zip(chosen, places, strict=True)
        ]
    else:
        grid, shown_jobs = _table(axes, arrangement, job_at, failure_text, preview)
    inputs = [(job.model, job.input) for job, *_ in shown_jobs]
    grid = replace(grid, title=title_of(outcome, inputs))
    placed = [
        Placed(
            section=section,
            row=row,
            column=column,
            coords=dict(zip(names, job.coords, strict=False)),
            result=job.result,
            model=job.model,
            input=job.input,
        )
        for job, section, row, column in shown_jobs
    ]
    return grid, placed


def _flat(
    jobs: Sequence[_Job],
    axes: Sequence[Axis],
    failure_text: FailureText,
    preview: bool,
    across: Axis | None = None,
) -> tuple[GridLayout, list[tuple[int, int]]]:
    """The tiles of ``jobs`` in balanced rows (or, one axis across, one row per image
    number), and where each job's first tile went (row, column)."""
    per_job = [_job_tiles(job, axes, failure_text) for job in jobs]
    most = max((len(tiles) for tiles in per_job), default=0)
    if across is not None and most > 1 and 1 < len(jobs) <= MAX_IMAGE_COLUMNS:
        # one axis and several images per job: the axis across, image number down
        columns = [header(across, _value_on(job, axes, across)) for job in jobs]
        rows = tuple(
            tuple(tiles[i] if i < len(tiles) else None for tiles in per_job) for i in range(most)
        )
        grid = GridLayout(
            title="",
            rows=rows,
            column_headers=tuple(columns),
            row_headers=tuple(f"image {i + 1}" for i in range(most)),
            local_preview=preview,
        )
        return grid, [(0, n) for n in range(len(jobs))]
    flat = _with_varying_seeds([tile for tiles in per_job for tile in tiles], axes)
    grid = GridLayout.wrapped("", flat, local_preview=preview)
    width = max(1, grid.columns)
    firsts = list(itertools.accumulate((len(tiles) for tiles in per_job), initial=0))[:-1]
    return grid, [divmod(first, width) for first in firsts]


def _value_on(job: _Job, axes: Sequence[Axis], axis: Axis) -> Any:
    index = list(axes).index(axis)
    return job.coords[index] if index < len(job.coords) else None


def _table(
    axes: Sequence[Axis],
    arrangement: Arrangement,
    job_at: Callable[[dict[int, Any]], _Job | None],
    failure_text: FailureText,
    preview: bool,
) -> tuple[GridLayout, list[tuple[_Job, str, int, int]]]:
    """Sections (facets, then Z) of rows (Y) of cells (X)."""
    cols, rows_axis = arrangement.cols, arrangement.rows
    across = arrangement.values[cols] if cols is not None else (None,)
    down = arrangement.values[rows_axis] if rows_axis is not None else (None,)
    sectioned = arrangement.sectioned
    combos = list(itertools.product(*(arrangement.values[i] for i in sectioned)))
    rows: list[list[list[Tile]]] = []
    row_headers: list[str] = []
    sections: list[Section] = []
    shown: list[tuple[_Job, str, int, int]] = []
    for combo in combos:
        parts = tuple(header(axes[i], v) for i, v in zip(sectioned, combo, strict=True))
        heading = " | ".join(parts)
        if sectioned:
            sections.append(Section(len(rows), heading, parts))
        for y in down:
            row: list[list[Tile]] = []
            for n, x in enumerate(across):
                values = dict(zip(sectioned, combo, strict=True))
                if cols is not None:
                    values[cols] = x
                if rows_axis is not None:
                    values[rows_axis] = y
                job = job_at(values)
                if job is None:
                    row.append([])
                    continue
                shown.append((job, heading, len(rows), n))
                row.append(_job_tiles(job, axes, failure_text))
            rows.append(row)
            if rows_axis is not None:
                row_headers.append(header(axes[rows_axis], y))
    # seeds varied along an axis differ from tile to tile: captions say them
    flat = _with_varying_seeds([t for row in rows for cell in row for t in cell], axes)
    it = iter(flat)
    cells = tuple(tuple(_cell([next(it) for _ in cell]) for cell in row) for row in rows)
    grid = GridLayout(
        title="",
        rows=cells,
        column_headers=tuple(header(axes[cols], x) for x in across) if cols is not None else (),
        row_headers=tuple(row_headers),
        local_preview=preview,
        sections=tuple(sections),
    )
    return grid, shown


def layout(
    outcome: Outcome, failure_text: FailureText, arrangement: Arrangement | None = None
) -> GridLayout:
    """The grid of ``outcome``; ``failure_text`` words a failed job's blank tile."""
    return build(outcome, failure_text, arrangement)[0]
