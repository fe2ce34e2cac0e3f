"""The ``text/html`` view of a result: the one view JupyterLab, Notebook 7, nbconvert, VS Code and
GitHub actually show (they all rank ``text/html`` above ``image/*``).

Three concerns, in order:

- geometry: how wide each tile is drawn, from the number of columns, the row headers and the
  width the output area offers (``GridSizes.width``); the images keep their aspect ratio;
- bytes: every image is embedded as a JPEG with more pixels than CSS pixels (sharp on HiDPI
  screens) while the result fits its notebook budget; over budget, the JPEG quality drops first
  and the pixel density only after that, the same for every tile so tiles compare fairly;
- markup: a table with inline attributes only. GitHub's notebook renderer strips ``<style>``,
  ``<script>`` and ``style`` attributes (jupyter/nbviewer#450, karolzak/ipyplot#3,
  pandas-dev/pandas#33076) but keeps presentational attributes such as ``width`` (quoted) and
  ``align``; so the layout stands on those, and ``style`` attributes only undo what front-end
  stylesheets do to tables: JupyterLab / Notebook 7 / nbconvert right-align cells, stripe and
  hover-highlight rows and pad cells by 0.5em (``.jp-RenderedHTMLCommon``); VS Code right-aligns,
  stripes rows and pads cells (its notebook webview stylesheet). Inline styles win over all of
  those; nothing there uses ``!important`` except VS Code's ``border: none``, which we want.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from naive_nb.display.composite import aspect_ratio, decode
from naive_nb.display.grid_model import (
    DEFAULT_SIZES,
    LOCAL_PREVIEW_LABEL,
    GridLayout,
    GridSizes,
    Tile,
)

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

CELL_PADDING = 2  # CSS px on each side of a cell: tiles 4 px apart
HEADER_CHAR_PX = 8  # rough width of one bold 13 px character, for the row-header column
QUALITIES = (75, 65, 55, 45)  # JPEG quality, tried first at each pixel density
DENSITIES = (2.0, 1.5, 1.25, 1.0)  # image pixels per CSS px, tried in turn
LAST_RESORT = ((1.0, 35), (1.0, 25), (0.75, 25), (0.5, 25))  # (density, quality) past 1x
RED = "#b21818"
ORANGE = "#c45a00"
FAILED_FILL = "#ececec"

# the inline styles that undo front-end table CSS (see the module docstring)
_TABLE_STYLE = "border-collapse:collapse;border:none;margin:0;width:auto;table-layout:auto"
_ROW_STYLE = "background:transparent"
_CELL_STYLE = f"padding:{CELL_PADDING}px;border:none;background:transparent;line-height:1.3"


# ---------------------------------------------------------------------------------------------
# geometry


@dataclass(frozen=True)
class GridGeometry:
    """CSS sizes of a grid: one width for every image column, plus the row-header column."""

    tile_width: int
    aspect: float  # height / width of a tile whose own size is unknown (a failed one)
    header_width: int = 0  # the row-header column, padding included (0: no row headers)
    columns: int = 1

    def tile_height(self, tile: Tile | None) -> int:
        if tile is not None and tile.width and tile.height:
            return max(1, round(self.tile_width * tile.height / tile.width))
        return max(1, round(self.tile_width * self.aspect))

    @property
    def table_width(self) -> int:
        """What the grid takes across, padding included."""
        return self.header_width + self.columns * (self.tile_width + 2 * CELL_PADDING)


def _header_width(layout: GridLayout) -> int:
    if not layout.row_headers:
        return 0
    longest = max(len(header) for header in layout.row_headers)
    return min(140, max(40, longest * HEADER_CHAR_PX)) + 2 * CELL_PADDING


def geometry(layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES) -> GridGeometry:
    """How wide the tiles are drawn: as wide as the columns let them, a lone image large.

    With ``sizes.width`` of 820 (JupyterLab's output area in a 1280 px window): one image is
    640 px wide if square (at least ``single_min``, at most its own width); two side by side
    406 px; three 269 px; four 201 px; a 4x4 X/Y plot beside its ``steps n`` headers 186 px.
    """
    columns = max(1, layout.columns)
    aspect = aspect_ratio(layout)
    header = _header_width(layout)
    room = sizes.width - header - columns * 2 * CELL_PADDING
    width = room // columns
    if columns == 1:
        # a lone column: large, but not a poster; never under single_min when the room allows
        width = min(width, round(sizes.single_height / aspect))
        width = max(width, min(sizes.single_min, room))
    natural = [t.width for t in layout.tiles if t.width]
    if natural:
        width = min(width, min(natural))  # never blown up past the image's own size
    width = max(width, sizes.thumb_side)
    return GridGeometry(
        tile_width=width,
        aspect=aspect,
        header_width=header,
        columns=columns,
    )


# ---------------------------------------------------------------------------------------------
# bytes


@dataclass(frozen=True)
class Embedding:
    """The JPEGs of a grid's tiles at one pixel density and quality (keyed by row, column)."""

    density: float
    quality: int
    images: dict[tuple[int, int], bytes]


def _positions(layout: GridLayout) -> Iterator[tuple[tuple[int, int], Tile]]:
    for r, row in enumerate(layout.rows):
        for c, tile in enumerate(row):
            if tile is not None and tile.data is not None:
                yield (r, c), tile


def _ladder(max_density: float) -> list[tuple[float, int]]:
    steps = [(d, q) for d in DENSITIES if d <= max_density for q in QUALITIES]
    if not steps or steps[0][0] < max_density:  # e.g. a 1.6x cap from the image's own size
        steps = [(max_density, q) for q in QUALITIES] + steps
    return steps + [step for step in LAST_RESORT if step[0] <= max_density]


def _encode(image: Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def embed(
    layout: GridLayout,
    box: GridGeometry,
    sizes: GridSizes,
    fits: Callable[[Embedding], bool],
) -> tuple[Embedding, dict[tuple[int, int], str]]:
    """The sharpest embedding (density, then quality, the same for all tiles) that ``fits``.

    Returns the embedding and the tiles that could not be decoded (with a reason)."""
    from PIL import Image as PILImage

    sources: dict[tuple[int, int], Image] = {}
    broken: dict[tuple[int, int], str] = {}
    max_density = sizes.density
    for key, tile in _positions(layout):
        css = (box.tile_width, box.tile_height(tile))
        target = (round(css[0] * sizes.density), round(css[1] * sizes.density))
        try:
            sources[key] = decode(tile.data or b"", target)
        except Exception:  # an undecodable file shows as a failed tile, not a failed output
            broken[key] = "image could not be decoded"
            continue
        # never more pixels than the file has
        max_density = min(max_density, sources[key].width / css[0])
    max_density = max(0.5, round(max_density, 2))
    embedding = Embedding(0.0, 0, {})
    for density, quality in _ladder(max_density):
        images = {}
        for key, source in sources.items():
            tile_height = box.tile_height(_tile_at(layout, key))
            size = (
                max(1, round(box.tile_width * density)),
                max(1, round(tile_height * density)),
            )
            picture = (
                source if source.size == size else source.resize(size, PILImage.Resampling.LANCZOS)
            )
            images[key] = _encode(picture, quality)
        embedding = Embedding(density, quality, images)
        if fits(embedding):
            break
    return embedding, broken


def _tile_at(layout: GridLayout, key: tuple[int, int]) -> Tile | None:
    return layout.rows[key[0]][key[1]]


# ---------------------------------------------------------------------------------------------
# markup


def visible_caption(caption: str, headers: Sequence[str]) -> str:
    """The caption without what the row and column headers already say.

    Captions list ``name value`` parts joined by `` | `` (``seed 3 | steps 2``), and ``#n`` for
    the n-th image of a job (``seed 3 #2``). In an X/Y plot the headers name both axes, so the
    caption of a tile repeats nothing of them."""
    kept = []
    for part in caption.split(" | "):
        match = re.fullmatch(r"(.*) #(\d+)", part)
        base, number = (match.group(1), match.group(2)) if match else (part, None)
        if part in headers:
            continue
        if number is not None and base in headers:
            if f"image {number}" not in headers:
                kept.append(f"#{number}")
            continue
        kept.append(part)
    return " | ".join(kept)


def _common_folder(paths: Sequence[str]) -> str:
    folders = [os.path.dirname(path) or "." for path in paths]
    try:
        common = os.path.commonpath(folders)
    except ValueError:  # absolute and relative mixed, or two drives
        return folders[0]
    return common.replace(os.sep, "/") or "."


def default_note(layout: GridLayout) -> str:
    """Where the full-size files are, said so it stays true in a copy without them."""
    paths = [tile.path for tile in layout.tiles if tile.path and not tile.failed]
    if not paths:
        return ""
    count = f"{len(paths)} file" + ("s" if len(paths) > 1 else "")
    return (
        f"Full-size files: {count} in {_common_folder(paths)}/ on the computer that made this "
        "output, not saved in the notebook; click an image to open its file there. Anywhere "
        "else, re-run the cell: a seeded request on the same backend gives the same images "
        "(the request is in this output's metadata)."
    )


def note_text(layout: GridLayout) -> str:
    return default_note(layout) if layout.note is None else layout.note


def _data_uri(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _cell(attributes: str, style: str, content: str) -> str:
    return f'<td {attributes} style="{_CELL_STYLE};{style}">{content}</td>'


def _header_cell(text: str, align: str, valign: str, width: int = 0) -> str:
    sized = f' width="{width}"' if width else ""
    style = f"text-align:{align};vertical-align:{valign}" + (f";width:{width}px" if width else "")
    # <td> with <b>, not <th>: front-end stylesheets style th (VS Code: bold off in tbody)
    content = f"<b>{html.escape(text)}</b>" if text else ""
    return _cell(f'align="{align}" valign="{valign}"{sized}', style, content)


def _tile_cell(
    tile: Tile | None,
    key: tuple[int, int],
    box: GridGeometry,
    embedding: Embedding,
    broken: dict[tuple[int, int], str],
    headers: Sequence[str],
) -> str:
    esc = html.escape
    align = 'align="center" valign="top"'
    style = "text-align:center;vertical-align:top"
    if tile is None:
        return _cell(align, style, "")
    width, height = box.tile_width, box.tile_height(tile)
    caption = visible_caption(tile.caption, headers)
    below = f"<br>{esc(caption)}" if caption else ""
    if key in embedding.images:
        size = f" ({tile.width}x{tile.height})" if tile.width and tile.height else ""
        alt = esc(tile.caption + size)
        # the tooltip: every parameter of the tile (headers included) and where its file is
        tip = alt + (f"; full-size file: {esc(tile.path)}" if tile.path else "")
        image = (
            f'<img src="{_data_uri(embedding.images[key])}" width="{width}" alt="{alt}" '
            f'title="{tip}" style="width:{width}px;height:auto;max-width:100%;'
            f'vertical-align:top">'
        )
        if tile.path:
            image = f'<a href="{esc(tile.path)}">{image}</a>'
        return _cell(align, style, image + below)
    reason = esc(broken.get(key) or tile.error or "no image")
    failed = (
        f'<table border="0" cellspacing="0" cellpadding="6" width="{width}" '
        f'style="{_TABLE_STYLE};width:{width}px"><tr style="{_ROW_STYLE}">'
        f'<td align="center" valign="middle" height="{height}" style="{_CELL_STYLE};'
        f"text-align:center;vertical-align:middle;height:{height}px;background:{FAILED_FILL};"
        f'color:{RED};border:1px solid {RED}"><b>failed</b><br>{reason}</td></tr></table>'
    )
    return _cell(align, style, failed + esc(caption))  # the table is a block: caption below


def render(
    layout: GridLayout, box: GridGeometry, embedding: Embedding, broken: dict[tuple[int, int], str]
) -> str:
    """The HTML of a grid whose images are already encoded."""
    esc = html.escape
    parts = [f'<p style="margin:0 0 2px 0;text-align:left"><b>{esc(layout.title)}</b></p>']
    if layout.local_preview:
        parts.append(
            f'<p style="margin:0 0 4px 0;text-align:left;color:{ORANGE}">'
            f"{esc(LOCAL_PREVIEW_LABEL)}</p>"
        )
    parts.append(
        f'<table border="0" cellspacing="0" cellpadding="{CELL_PADDING}" style="{_TABLE_STYLE}">'
    )
    if layout.column_headers:
        corner_width = box.header_width - 2 * CELL_PADDING
        corner = [_header_cell("", "right", "bottom", corner_width)] if layout.row_headers else []
        headers = [_header_cell(h, "center", "bottom") for h in layout.column_headers]
        parts.append(f'<tr style="{_ROW_STYLE}">' + "".join(corner + headers) + "</tr>")
    for r, row in enumerate(layout.rows):
        cells = []
        row_header = layout.row_headers[r] if r < len(layout.row_headers) else ""
        if layout.row_headers:
            cells.append(
                _header_cell(row_header, "right", "middle", box.header_width - 2 * CELL_PADDING)
            )
        for c, tile in enumerate(row):
            column_header = layout.column_headers[c] if c < len(layout.column_headers) else ""
            headers = [h for h in (column_header, row_header) if h]
            cells.append(_tile_cell(tile, (r, c), box, embedding, broken, headers))
        parts.append(f'<tr style="{_ROW_STYLE}">' + "".join(cells) + "</tr>")
    parts.append("</table>")
    note = note_text(layout)
    if note:
        parts.append(f'<p style="margin:4px 0 0 0;text-align:left"><small>{esc(note)}</small></p>')
    return "".join(parts)


def stored_bytes(text: str) -> int:
    """Bytes a string takes in the saved notebook (a JSON string there)."""
    return len(json.dumps(text))


@dataclass(frozen=True)
class HtmlView:
    """The HTML of a grid and how it was sized and encoded (for tests and the benchmark)."""

    html: str
    geometry: GridGeometry
    density: float  # image pixels per CSS px of the embedded JPEGs
    quality: int


def html_view(
    layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES, other_bytes: int = 0
) -> HtmlView:
    """The grid as HTML within its notebook budget, counting ``other_bytes`` (the text/plain
    part) and an allowance for the provenance metadata of each image."""
    box = geometry(layout, sizes)
    count = len(layout.tiles)
    allowed = sizes.budget(count) - other_bytes - sizes.metadata_bytes_per_image * count

    def fits(embedding: Embedding) -> bool:
        return stored_bytes(render(layout, box, embedding, {})) <= allowed

    embedding, broken = embed(layout, box, sizes, fits)
    return HtmlView(
        render(layout, box, embedding, broken), box, embedding.density, embedding.quality
    )


def html_table(layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES, other_bytes: int = 0) -> str:
    """The grid as HTML within its notebook budget (see ``html_view``)."""
    return html_view(layout, sizes, other_bytes).html
