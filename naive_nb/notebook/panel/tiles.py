"""The panel's results grid: one tile per image (seed under it, a view and a reuse-seed button),
and a labelled blank tile for a job that made none.

Thumbnails are JPEG bytes made in the kernel from the files in the store and sent over the comm
channel (``ipywidgets.Image``'s value is a binary buffer), never a URL to the embedded server: a
browser on another machine (a remote kernel, Binder) cannot reach the kernel's loopback.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from naive_nb.notebook.panel.widgetset import WidgetSet

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.run import FailedJob, Outcome
    from naive_nb.run.records import JobRecord, StoredImage

__all__ = ["THUMB_SIDE", "TileData", "TileGrid", "thumbnail", "tiles_of"]

THUMB_SIDE = 256  # image pixels of a thumbnail's longer side (sharp on HiDPI screens)
TILE_WIDTH = 156  # four tiles side by side in JupyterLab's output area
GREY = "#57606a"
RED = "#b21818"


@dataclass(frozen=True)
class TileData:
    """One cell of a run's grid: an image (``image``, its ``record``, its ``thumbnail``), or a
    job that made none (``failure``: what became of it)."""

    seed: int | None
    caption: str
    thumbnail: bytes = b""
    image: StoredImage | None = None
    record: JobRecord | None = None
    failure: str = ""

    @property
    def viewable(self) -> bool:
        return self.image is not None


def thumbnail(image: StoredImage, side: int = THUMB_SIDE) -> bytes:
    """A JPEG of ``image`` no larger than ``side`` pixels across."""
    from PIL import Image

    with Image.open(image.path) as picture:
        picture.thumbnail((side, side))
        out = io.BytesIO()
        picture.convert("RGB").save(out, format="JPEG", quality=82)
    return out.getvalue()


def tiles_of(outcome: Outcome, failure_text: Callable[[FailedJob], str]) -> list[TileData]:
    """The tiles of ``outcome`` in the order its plan asked for them (thumbnails made here:
    call it off the kernel's main thread)."""
    from naive_nb.run import FailedJob

    cells = [outcome.by_index[i] for i in sorted(outcome.by_index)] or [
        *outcome.records,
        *outcome.failures,
    ]
    tiles = []
    for cell in cells:
        if isinstance(cell, FailedJob):
            tiles.append(TileData(cell.seed, _caption(cell.seed), failure=failure_text(cell)))
            continue
        several = len(cell.files) > 1
        for number, image in enumerate(cell.files, 1):
            caption = _caption(cell.seed, number if several else None)
            tiles.append(TileData(cell.seed, caption, thumbnail(image), image, cell))
    return tiles


def _caption(seed: int | None, number: int | None = None) -> str:
    text = "no seed" if seed is None else f"seed {seed}"
    return f"{text} · #{number}" if number else text


class TileGrid:
    """The grid's widgets; :meth:`show` replaces the tiles (the old ones are closed)."""

    def __init__(
        self,
        make: Callable[..., Any],
        on_view: Callable[[int], None],
        on_reuse: Callable[[int], None],
    ) -> None:
        import ipywidgets as widgets

        self._on_view = on_view
        self._on_reuse = on_reuse
        self._tiles = WidgetSet()
        self.box = make(
            widgets.GridBox,
            [],
            layout=widgets.Layout(
                grid_template_columns=f"repeat(auto-fill, {TILE_WIDTH + 8}px)",
                grid_gap="6px",
                width="100%",
            ),
        )

    def show(self, tiles: list[TileData]) -> None:
        old, self._tiles = self._tiles, WidgetSet()
        self.box.children = [self._tile(index, tile) for index, tile in enumerate(tiles)]
        old.close()

    def _tile(self, index: int, tile: TileData) -> Any:
        import ipywidgets as widgets

        make = self._tiles
        width = widgets.Layout(width=f"{TILE_WIDTH}px")
        if not tile.viewable:
            text = html.escape(tile.failure or "no image")
            blank = make(
                widgets.HTML,
                value=(
                    f'<div style="width:{TILE_WIDTH}px;height:{TILE_WIDTH}px;background:#ececec;'
                    f'color:{RED};padding:8px;box-sizing:border-box;overflow:auto;font-size:12px">'
                    f"{text}</div>"
                ),
            )
            caption = make(widgets.HTML, value=f'<span style="color:{GREY}">{tile.caption}</span>')
            return make(widgets.VBox, [blank, caption], layout=width)
        picture = make(widgets.Image, value=tile.thumbnail, format="jpeg", layout=width)
        caption = make(widgets.HTML, value=f"<b>{html.escape(tile.caption)}</b>")
        view = make(
            widgets.Button,
            description="view",
            icon="search-plus",
            tooltip="A larger view, with the full input, the job id, the file and a save button",
            layout=widgets.Layout(width="76px"),
        )
        reuse = make(
            widgets.Button,
            description="seed",
            icon="recycle",
            tooltip=f"Reuse this tile's seed ({tile.seed}) in the seeds field",
            layout=widgets.Layout(width="76px"),
            disabled=tile.seed is None,
        )
        view.on_click(lambda _: self._on_view(index))
        reuse.on_click(lambda _: self._on_reuse(index))
        buttons = make(widgets.HBox, [view, reuse])
        return make(widgets.VBox, [picture, caption, buttons], layout=width)

    def close(self) -> None:
        self.show([])
