"""The value a ``%naive`` cell returns: images on disk, their provenance, and how to show them.

It is an ordinary object (``_``, ``-o name`` or ``r = %naive ...``) whose ``_repr_mimebundle_``
returns the grid in ``image/jpeg``, ``text/html`` and ``text/plain`` with the ``{"naive": ...}``
metadata, so it renders the same live, saved, on GitHub and in nbconvert output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb.display.grid import GridLayout, GridSizes, Tile, composite, grid_bundle
from naive_nb.display.provenance import output_metadata
from naive_nb.run.cache import request_key
from naive_nb.run.params import pixel_size
from naive_nb.run.records import JobRecord, StoredImage
from naive_nb.run.runner import FailedJob

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

_TITLE_KEYS = (
    ("image_size", "{}"),
    ("num_inference_steps", "{} steps"),
    ("guidance_scale", "cfg {}"),
    ("output_format", "{}"),
)
_SKIP_IN_TITLE = {"prompt", "seed", "num_images", "enable_safety_checker"}
# what a sweep may vary, in the order axes are laid out (first across, second down)
AXIS_ORDER = ("seed", "num_inference_steps", "guidance_scale")
AXIS_NAMES = {"seed": "seed", "num_inference_steps": "steps", "guidance_scale": "cfg"}


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path.as_posix()


class NaiveResult:
    """Finished jobs (and failed cells) of one ``%naive`` run, in the order they were asked."""

    def __init__(
        self,
        records: Sequence[JobRecord],
        failures: Sequence[FailedJob] = (),
        *,
        sizes: GridSizes | None = None,
        order: Sequence[str] | None = None,
    ) -> None:
        self.records = list(records)
        self.failures = list(failures)
        self.sizes = sizes or GridSizes()
        # request keys in the order asked, so failed tiles keep their place in a sweep
        self._order = list(order) if order is not None else None
        self._bundle: tuple[dict[str, Any], dict[str, Any]] | None = None

    # -- what users reach for ---------------------------------------------------------------
    @property
    def images(self) -> list[StoredImage]:
        return [image for record in self.records for image in record.files]

    @property
    def files(self) -> list[Path]:
        return [image.path for image in self.images]

    @property
    def seeds(self) -> list[int | None]:
        """The seed of each job: the one asked for, else the one the server reported."""
        return [record.seed for record in self.records]

    @property
    def job_ids(self) -> list[str]:
        return [record.job_id for record in self.records]

    @property
    def job(self) -> JobRecord | None:
        """The single job of a one-job run (None for sweeps)."""
        return self.records[0] if len(self.records) == 1 else None

    @property
    def credits(self) -> float:
        """Credits this run spent (results served from the cache cost nothing)."""
        return sum(r.credits_used or 0.0 for r in self.records if not r.from_cache)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def local_preview(self) -> bool:
        return any(record.local_preview for record in self.records)

    def grid(self) -> Image:
        """The labelled composite as a Pillow image (the same picture the output shows)."""
        return composite(self.layout(), self.sizes)

    # -- rendering ----------------------------------------------------------------------------
    def _inputs(self) -> list[tuple[str, dict[str, Any]]]:
        return [(r.model, r.input) for r in self.records] + [
            (f.model, f.input) for f in self.failures
        ]

    def axes(self) -> list[str]:
        """The input keys whose values differ between the jobs (seed first), in sweep order."""
        inputs = [data for _, data in self._inputs()]
        varying = [
            key
            for key in AXIS_ORDER
            if len({json.dumps(data.get(key), sort_keys=True) for data in inputs}) > 1
        ]
        return varying

    def _title(self) -> str:
        inputs = self._inputs()
        model, first = inputs[0] if inputs else ("", {})
        varying = set(self.axes())
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

    def _label(self, data: dict[str, Any], keys: Sequence[str]) -> str:
        def value(key: str) -> Any:
            shown = data.get(key)
            return "random" if shown is None and key == "seed" else shown

        return " | ".join(f"{AXIS_NAMES.get(k, k)} {value(k)}" for k in keys)

    def _tiles_by_job(self) -> list[tuple[dict[str, Any], list[Tile]]]:
        """(input, tiles) of every job, in the order the jobs were asked."""
        axes = self.axes() or ["seed"]
        by_key: dict[str, tuple[dict[str, Any], list[Tile]]] = {}
        for record in self.records:
            count = len(record.files)
            tiles = []
            for image in record.files:
                present = image.path.exists()
                # a model without a seed key: the seed the server reported, as the file name says
                seed = image.seed if image.seed is not None else record.seed
                label = self._label({**record.input, "seed": seed}, axes)
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
            by_key[record.cache_key] = (record.input, tiles)
        for failure in self.failures:
            tile = Tile(
                caption=self._label(failure.input, axes),
                error=failure.message,
                seed=failure.seed,
                job_id=failure.job_id,
            )
            by_key[request_key(failure.model, failure.input)] = (failure.input, [tile])
        order = self._order or list(by_key)
        return [by_key[key] for key in dict.fromkeys(order) if key in by_key]

    def layout(self) -> GridLayout:
        jobs = self._tiles_by_job()
        title = self._title()
        preview = self.local_preview
        axes = self.axes()
        per_job = max((len(tiles) for _, tiles in jobs), default=0)
        if len(axes) == 2:
            # an X/Y plot: the first axis across, the second down, one image per cell
            x_key, y_key = axes
            xs = list(dict.fromkeys(json.dumps(d.get(x_key)) for d, _ in jobs))
            ys = list(dict.fromkeys(json.dumps(d.get(y_key)) for d, _ in jobs))
            cells: dict[tuple[str, str], Tile] = {
                (json.dumps(d.get(x_key)), json.dumps(d.get(y_key))): tiles[0] for d, tiles in jobs
            }
            rows = tuple(tuple(cells.get((x, y)) for x in xs) for y in ys)
            name = AXIS_NAMES.get
            return GridLayout(
                title=title,
                rows=rows,
                column_headers=tuple(f"{name(x_key, x_key)} {json.loads(x)}" for x in xs),
                row_headers=tuple(f"{name(y_key, y_key)} {json.loads(y)}" for y in ys),
                local_preview=preview,
            )
        if len(jobs) > 1 and per_job > 1 and len(jobs) <= 8:
            # one axis and several images per job: the axis across, image number down
            columns = [tiles[0].caption.split(" #")[0] for _, tiles in jobs]
            rows_of_tiles = tuple(
                tuple(tiles[i] if i < len(tiles) else None for _, tiles in jobs)
                for i in range(per_job)
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

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._bundle is None:
            data = grid_bundle(self.layout(), self.sizes)
            metadata = output_metadata(
                self.records,
                failures=[f.describe() for f in self.failures],
                base=Path.cwd(),
            )
            self._bundle = (data, metadata)
        return self._bundle

    def __repr__(self) -> str:
        size = ""
        if self.records:
            width, height = pixel_size(self.records[0].input)
            size = f", {width}x{height}"
        failed = f", {len(self.failures)} failed" if self.failures else ""
        return (
            f"<NaiveResult {len(self.images)} images{size}, seeds {self.seeds}{failed}, "
            f"jobs {[j[:8] for j in self.job_ids]}>"
        )
