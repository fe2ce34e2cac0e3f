"""``r.grid(...)``: a result's tiles laid out one way, to look at, re-lay and save.

A :class:`Grid` is a view of a finished run, never a new run: laying it out again (other axes
across or down, transposed, some values only) reads the stored files and sends nothing.

- In a notebook it shows as the result does (the HTML view of the display issue, sized for
  comparison, with the provenance metadata of the tiles shown).
- ``.save("compare.png")`` writes the labelled composite at full resolution (or ``scale``) with
  the whole sweep's spec (the request, as :meth:`naive_nb.run.request.Request.to_json` gives
  it, the plan's axes with their concrete values, the layout) and every tile's request, job id
  and file in an ``iTXt`` chunk named ``naive``: :func:`read_saved_grid` gives it back.
- ``.image`` is the composite as a Pillow image; anything public a Pillow image has
  (``size``, ``show()``, ``resize()``; ``numpy.asarray(grid)``) works on the grid too, so code
  written when ``r.grid()`` returned the picture keeps working.
- ``.save_images(folder)`` writes the tiles' files only, named by their values on the axes, and
  the spec beside them: no composite (for a sweep used as a queue of settings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb._version import __version__
from naive_nb.display.arrangement import Arrangement, arrange, value_text
from naive_nb.display.composite import LINE, MAX_PIXELS, CompositeStyle, draw_composite
from naive_nb.display.grid import grid_bundle
from naive_nb.display.grid_model import GridLayout, GridSizes
from naive_nb.display.layout import FailureText, Placed, axes_of, build
from naive_nb.display.paths import shown_path
from naive_nb.display.provenance import jsonable, output_metadata, request_json
from naive_nb.display.views import ViewCache
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.records import JobRecord

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

__all__ = ["SAVED_KEY", "Grid", "read_saved_grid"]

#: the PNG text chunk (``iTXt``) that holds a saved grid's spec
SAVED_KEY = "naive"


class Grid:
    """One layout of a result's tiles (see the module docstring)."""

    def __init__(
        self,
        outcome: Outcome,
        arrangement: Arrangement | None = None,
        *,
        sizes: GridSizes | None = None,
        failure_text: FailureText,
        title: str | None = None,
        views: ViewCache | None = None,
    ) -> None:
        self.outcome = outcome
        self.arrangement = arrangement or arrange(axes_of(outcome))
        self.sizes = sizes or GridSizes()
        self.failure_text = failure_text
        self.title = title
        self.views = views
        self._bundle: tuple[dict[str, Any], dict[str, Any]] | None = None

    # -- the layout ----------------------------------------------------------------------
    @cached_property
    def _built(self) -> tuple[GridLayout, list[Placed]]:
        grid, placed = build(self.outcome, self.failure_text, self.arrangement)
        return replace(grid, headline=self.title or ""), placed

    @property
    def layout(self) -> GridLayout:
        """The tiles in rows, with headers and sections, as the renderers draw them."""
        return self._built[0]

    @property
    def placed(self) -> list[Placed]:
        """Each job shown: its place in the grid, its values on the axes, what it left."""
        return self._built[1]

    def transpose(self) -> Grid:
        """The same grid with rows as columns and columns as rows."""
        return self._again(self.arrangement.transposed())

    @property
    def T(self) -> Grid:  # numpy's and pandas' name for it
        return self.transpose()

    def _again(self, arrangement: Arrangement) -> Grid:
        return Grid(
            self.outcome,
            arrangement,
            sizes=self.sizes,
            failure_text=self.failure_text,
            title=self.title,
            views=self.views,
        )

    # -- in the notebook -------------------------------------------------------------------
    def _shown_results(self) -> tuple[list[JobRecord], list[FailedJob]]:
        records, failures = [], []
        for job in self.placed:
            if isinstance(job.result, JobRecord) and job.result not in records:
                records.append(job.result)
            elif isinstance(job.result, FailedJob) and job.result not in failures:
                failures.append(job.result)
        return records, failures

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._bundle is None:
            data = grid_bundle(self.layout, self.sizes, self.views)
            records, failed = self._shown_results()
            failures = [{**f.describe(), "message": self.failure_text(f)} for f in failed]
            metadata = output_metadata(
                records, failures=failures, base=Path.cwd(), plan=self.outcome.plan
            )
            metadata["naive"]["grid"] = self.arrangement.describe(axes_of(self.outcome))
            self._bundle = (data, metadata)
        return self._bundle

    def __repr__(self) -> str:
        grid = self.layout
        described = self.arrangement.describe(axes_of(self.outcome))
        placed = ", ".join(f"{role}={name}" for role, name in described.items() if name)
        shape = f"{len(grid.rows)}x{grid.columns}"
        if grid.sections:
            shape += f" in {len(grid.sections)} sections"
        return f"<Grid {len(grid.tiles)} tiles, {shape}{', ' if placed else ''}{placed}>"

    # -- the picture -----------------------------------------------------------------------
    def composite(
        self,
        *,
        scale: float = 1.0,
        title: str | None = None,
        font_size: int | None = None,
        margin: int | None = None,
        line_color: tuple[int, int, int] = LINE,
        line_width: int | None = None,
        max_pixels: int = MAX_PIXELS,
    ) -> Image:
        """The labelled picture (see :class:`naive_nb.display.composite.CompositeStyle`);
        raises ``CompositeTooLarge`` over ``max_pixels``."""
        style = CompositeStyle(
            scale=scale,
            title=title,
            font_size=font_size,
            margin=margin,
            line_color=line_color,
            line_width=line_width,
            max_pixels=max_pixels,
        )
        return draw_composite(self.layout, style)

    @cached_property
    def image(self) -> Image:
        """The labelled composite at full resolution, as a Pillow image."""
        return self.composite()

    def __getattr__(self, name: str) -> Any:
        # what a Pillow image offers (size, show(), resize()...): r.grid() used to return one.
        # Only a Pillow image's public names are passed on: IPython's display probes (private
        # names) and typos never build a picture, and a half-built grid (unpickling) never
        # recurses here.
        from PIL import Image as PILImage

        pillow = not name.startswith("_") and (hasattr(PILImage.Image, name) or name == "info")
        if not pillow or "outcome" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.image, name)

    @property
    def __array_interface__(self) -> dict[str, Any]:
        """``numpy.asarray(grid)``: the composite's pixels."""
        interface: dict[str, Any] = self.image.__array_interface__
        return interface

    # -- saving ----------------------------------------------------------------------------
    def spec(self) -> dict[str, Any]:
        """What a saved grid carries: the sweep (request, axes, layout) and every tile's request,
        job and files (paths relative to the working directory), JSON-ready."""
        plan = self.outcome.plan
        axes = axes_of(self.outcome)
        shown = {
            axes[i].label: [value_text(axes[i], v) for v in values]
            for i, values in enumerate(self.arrangement.values)
            if len(values) < len(axes[i].values)
        }
        tiles = []
        for job in self.placed:
            tile: dict[str, Any] = {
                "section": job.section,
                "row": job.row,
                "column": job.column,
                "coords": job.coords,
                "model": job.model,
                "input": job.input,
            }
            result = job.result
            if isinstance(result, JobRecord):
                tile["status"] = "completed"
                tile["job_id"] = result.job_id
                tile["files"] = [
                    {
                        "path": shown_path(image.path),
                        "sha256": image.sha256,
                        "width": image.width,
                        "height": image.height,
                        "seed": image.seed,
                    }
                    for image in result.files
                ]
            elif isinstance(result, FailedJob):
                tile.update(status=result.code, job_id=result.job_id, reason=result.reason)
            else:
                tile["status"] = "not_run"
            tiles.append(tile)
        return {
            "kind": "naive-nb grid",
            "version": __version__,
            "request": request_json(plan.resolved) if plan is not None else None,
            "model": plan.model if plan is not None else None,
            "chosen_seed": plan.chosen_seed if plan is not None else None,
            "axes": [axis.to_json() for axis in axes],
            "layout": {**self.arrangement.describe(axes), "where": shown},
            "title": self.layout.title,
            "tiles": tiles,
        }

    def _spec_text(self) -> str:
        return json.dumps(self.spec(), sort_keys=True, ensure_ascii=False, default=jsonable)

    def save(self, path: str | Path, **style: Any) -> Path:
        """Write the composite (``style``: the arguments of :meth:`composite`) to ``path``.

        PNG (any other suffix than .jpg/.jpeg/.webp...) carries the spec in an ``iTXt`` chunk
        named ``naive``; a JPEG in its comment when it fits (64 KB); other formats none."""
        target = Path(path)
        picture = self.composite(**style)
        text = self._spec_text()
        suffix = target.suffix.lower()
        if suffix in (".jpg", ".jpeg"):
            comment = text.encode("utf-8")
            extra = {"comment": comment} if len(comment) <= 65_000 else {}
            picture.save(target, format="JPEG", quality=92, **extra)
        elif suffix not in ("", ".png"):
            picture.save(target)
        else:
            from PIL.PngImagePlugin import PngInfo

            info = PngInfo()
            info.add_text("Software", f"naive-nb {__version__}")
            info.add_itxt("Title", style.get("title") or self.title or self.layout.title)
            info.add_itxt(SAVED_KEY, text, zip=True)
            picture.save(target, format="PNG", pnginfo=info)
        return target

    def save_images(self, folder: str | Path) -> list[Path]:
        """The tiles' full-size files only, no composite: copied into ``folder`` under names
        made of their values on the axes (``seed-3_model-flux-dev.png``), with ``grid.json``
        (the spec :meth:`save` embeds). Returns the files written; a missing file is skipped
        (the spec still lists it)."""
        from naive_nb.run.store import write_atomic

        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        axes = {axis.label: axis for axis in axes_of(self.outcome)}
        written = []
        for job in self.placed:
            if not isinstance(job.result, JobRecord):
                continue
            parts = [
                f"{name}-{value_text(axes[name], value) if name in axes else value}"
                for name, value in job.coords.items()
            ] or [f"seed-{job.result.seed}"]
            stem = re.sub(r"[^A-Za-z0-9._=-]+", "-", "_".join(parts)).strip("-")
            many = len(job.result.files) > 1
            for image in job.result.files:
                if not image.path.exists():
                    continue
                name = stem + (f"_{image.index + 1}" if many else "") + image.path.suffix
                write_atomic(target / name, image.path.read_bytes())
                written.append(target / name)
        write_atomic(target / "grid.json", self._spec_text().encode("utf-8"))
        return written


def read_saved_grid(path: str | Path) -> dict[str, Any] | None:
    """The spec a saved grid carries (None when it has none)."""
    from PIL import Image

    with Image.open(path) as image:
        text = image.info.get(SAVED_KEY)
        if text is None and image.format == "JPEG":
            comment = image.info.get("comment")
            text = comment.decode("utf-8") if isinstance(comment, bytes) else None
    if not isinstance(text, str):
        return None
    value = json.loads(text)
    if isinstance(value, Mapping) and value.get("kind") == "naive-nb grid":
        return dict(value)
    return None
