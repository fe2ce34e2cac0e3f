"""Result grids as mime bundles: ``text/html`` (what every front end shows) and ``text/plain``.

The layout follows AUTOMATIC1111's X/Y/Z plot: what is common goes in a title line, headers
name the axes' values (sections for Z and further axes), a caption keeps only what no header
says, a failed cell is a labelled blank tile rather than a hole. JupyterLab, Notebook 7,
nbconvert, VS Code and GitHub all rank ``text/html`` above ``image/*``, so the bundle carries no
``image/jpeg``: a JPEG beside the HTML would only add bytes nobody sees. The labelled composite
picture is drawn on request (``result.grid().save(...)``, :mod:`naive_nb.display.composite`).

The parts live in their own modules; this one keeps the names the rest of the package imports.
"""

from __future__ import annotations

from typing import Any

from naive_nb.display.captions import failure_lines
from naive_nb.display.composite import composite
from naive_nb.display.grid_html import (
    GridGeometry,
    HtmlView,
    geometry,
    html_table,
    html_view,
    note_text,
    stored_bytes,
)
from naive_nb.display.grid_model import (
    DEFAULT_SIZES,
    LOCAL_PREVIEW_LABEL,
    GridLayout,
    GridSizes,
    Tile,
)
from naive_nb.display.views import ViewCache

__all__ = [
    "LOCAL_PREVIEW_LABEL",
    "GridGeometry",
    "GridLayout",
    "GridSizes",
    "HtmlView",
    "Tile",
    "composite",
    "geometry",
    "grid_bundle",
    "html_table",
    "html_view",
    "text_table",
]


def _where(tile: Tile) -> str:
    if not tile.failed:
        return tile.path or "-"
    heading, reason, job = failure_lines(tile)
    return f"{heading.upper()}: " + "; ".join(part for part in (reason, job) if part)


def text_table(layout: GridLayout) -> str:
    """seed, image size and file path of every tile: what a reader needs to find the files.

    Each tile's label names all its values on the axes, so the table reads without the grid."""
    lines = [layout.title]
    if layout.local_preview:
        lines.append(LOCAL_PREVIEW_LABEL)
    rows = [("seed", "label", "size", "file")]
    for tile in layout.tiles:
        size = f"{tile.width}x{tile.height}" if tile.width and tile.height else "-"
        rows.append(
            ("-" if tile.seed is None else str(tile.seed), tile.caption, size, _where(tile))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        lines.append(
            "  ".join(value.ljust(widths[i]) for i, value in enumerate(row[:3])) + "  " + row[3]
        )
    note = note_text(layout)
    if note:
        lines.append(note)
    return "\n".join(lines)


def grid_bundle(
    layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES, views: ViewCache | None = None
) -> dict[str, Any]:
    """The bundle of a grid: the HTML view within the notebook budget, and the text table.

    ``views`` keeps the tiles' encodings, so showing the same files again encodes nothing."""
    text = text_table(layout)
    return {
        "text/html": html_table(layout, sizes, other_bytes=stored_bytes(text), views=views),
        "text/plain": text,
    }
