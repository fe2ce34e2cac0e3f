"""What a result grid is made of: tiles in rows, the axis headers, and the sizes it is drawn at.

Pure data: the renderers (``grid_html``, ``composite``, ``grid.text_table``) read it, the
result layer builds it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LOCAL_PREVIEW_LABEL = "LOCAL PREVIEW - naive-nb embedded server, not a real model"


@dataclass(frozen=True)
class Tile:
    """One cell of a grid: an encoded image, or a failure with its reason."""

    caption: str
    data: bytes | None = None
    error: str | None = None
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    path: str | None = None  # the full-size file, as the reader's notebook can reach it
    job_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.data is None


@dataclass(frozen=True)
class GridLayout:
    """Tiles in rows; headers label the axes when the grid has two (e.g. seed x steps).

    ``note`` is the line under the grid that says where the full-size files are: ``None`` for
    the default wording (written when any tile has a file), ``""`` for no line.
    """

    title: str
    rows: tuple[tuple[Tile | None, ...], ...]
    column_headers: tuple[str, ...] = ()
    row_headers: tuple[str, ...] = ()
    local_preview: bool = False
    note: str | None = None

    @property
    def tiles(self) -> list[Tile]:
        return [tile for row in self.rows for tile in row if tile is not None]

    @property
    def columns(self) -> int:
        return max((len(row) for row in self.rows), default=0)

    @classmethod
    def wrapped(
        cls, title: str, tiles: Sequence[Tile], *, local_preview: bool = False, max_columns: int = 4
    ) -> GridLayout:
        """A flat list of tiles in as few rows as ``max_columns`` allows, the rows balanced.

        Up to ``max_columns`` sit side by side (a comparison reads best in one row); more wrap
        into rows of equal length where they can: 8 tiles are two rows of four (not 3+3+2),
        6 are two rows of three, 16 are four rows of four.
        """
        count = len(tiles)
        row_count = max(1, math.ceil(count / max(1, max_columns)))
        columns = max(1, math.ceil(count / row_count))
        rows = tuple(tuple(tiles[i : i + columns]) for i in range(0, count, columns))
        return cls(title=title, rows=rows, local_preview=local_preview)


@dataclass(frozen=True)
class GridSizes:
    """How large a result is drawn, and how many bytes it may add to the notebook.

    The defaults fit the output area of JupyterLab in a 1280 px window (848 px, 828 px of it
    for content) and the notebook budget of ``DESIGN.md`` (one image at most 120 KB, a 4x4
    grid of 1024 px images at most 300 KB).
    """

    width: int = 820  # CSS px the output area offers to the grid, row headers included
    single_min: int = 512  # a lone image is at least this wide (or its own width if smaller)
    single_height: int = 640  # ...and otherwise no taller than this
    thumb_side: int = 112  # no tile is drawn narrower (a grid wider than `width` then scrolls)
    density: float = 2.0  # at most this many image pixels per CSS px: sharp on HiDPI screens
    one_image_bytes: int = 120_000  # what a result of one image may add to the .ipynb
    sixteen_images_bytes: int = 300_000  # ... and one of 16 (or more) images
    metadata_bytes_per_image: int = 1_200  # left for the provenance metadata of each image
    composite_side: int = 1024  # longest side of ``result.grid()``, labels included
    tile_side: int = 224  # a composite tile never grows past this, even in a 1x1 grid

    def budget(self, images: int) -> int:
        """Bytes a result of this many images may add to the notebook (linear from 1 to 16)."""
        extra = (self.sixteen_images_bytes - self.one_image_bytes) / 15
        return int(min(self.sixteen_images_bytes, self.one_image_bytes + extra * (images - 1)))


DEFAULT_SIZES = GridSizes()
