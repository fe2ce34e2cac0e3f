"""What a result grid is made of: tiles in rows, the axis headers, and the sizes it is drawn at.

Pure data: the renderers (``grid_html``, ``composite``, ``grid.text_table``) read it, the
result layer builds it (:mod:`naive_nb.display.layout`).

A grid is one table: column headers across, row headers down, and optionally sections (one per
Z value, or per combination of the values of further axes), each with a heading, stacked top to
bottom with the column headers repeated. A cell is a tile, a pack of the several images of one
job, or empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

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
    code: str | None = None  # why there is no image (a failure's code), for the tile's heading
    sha256: str | None = None  # of the full-size file: names its cached encodings
    source: Path | None = None  # the full-size file where this kernel reads it (never shown)

    @property
    def failed(self) -> bool:
        return self.data is None


@dataclass(frozen=True)
class Pack:
    """The several images of one job (``num_images`` > 1), drawn together in one cell."""

    tiles: tuple[Tile, ...]


Cell: TypeAlias = "Tile | Pack | None"


@dataclass(frozen=True)
class Section:
    """Rows from ``start`` on belong to one Z value (or one combination of facet values):
    ``heading`` names it, ``parts`` are its ``name value`` pieces (not repeated in captions)."""

    start: int
    heading: str
    parts: tuple[str, ...] = ()


def cell_tiles(cell: Cell) -> list[Tile]:
    if cell is None:
        return []
    return list(cell.tiles) if isinstance(cell, Pack) else [cell]


@dataclass(frozen=True)
class GridLayout:
    """Tiles in rows; headers label the axes when the grid has two (e.g. seed x steps).

    ``note`` is the line under the grid that says where the full-size files are: ``None`` for
    the default wording (written when any tile has a file), ``""`` for no line. ``headline`` is
    a title of the user's own, over the ``title`` line (what every tile shares).
    """

    title: str
    rows: tuple[tuple[Cell, ...], ...]
    column_headers: tuple[str, ...] = ()
    row_headers: tuple[str, ...] = ()
    local_preview: bool = False
    note: str | None = None
    sections: tuple[Section, ...] = ()
    headline: str = ""

    @property
    def tiles(self) -> list[Tile]:
        return [tile for row in self.rows for cell in row for tile in cell_tiles(cell)]

    def section_of(self, row: int) -> Section | None:
        """The section row ``row`` belongs to (None in a grid without sections)."""
        found = None
        for section in self.sections:
            if section.start <= row:
                found = section
        return found

    @property
    def pack_shape(self) -> tuple[int, int]:
        """(columns, rows) of images inside the fullest cell: (1, 1) when none is packed."""
        most = max(
            (len(cell.tiles) for row in self.rows for cell in row if isinstance(cell, Pack)),
            default=1,
        )
        return pack_shape(most)

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


def pack_shape(count: int) -> tuple[int, int]:
    """(columns, rows) of ``count`` images in one cell: 2 side by side, 3 or 4 as 2x2."""
    if count <= 1:
        return (1, 1)
    if count == 2:
        return (2, 1)
    columns = math.ceil(math.sqrt(count))
    return (columns, math.ceil(count / columns))


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
    grid_tile_min: int = 180  # row headers (wrapped) leave a grid's tiles at least this wide
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
