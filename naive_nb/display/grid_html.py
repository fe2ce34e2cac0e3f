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

from naive_nb.display.captions import (
    cell_headers,
    failure_lines,
    pack_caption,
    visible_caption,
)
from naive_nb.display.composite import aspect_ratio, decode
from naive_nb.display.grid_model import (
    DEFAULT_SIZES,
    LOCAL_PREVIEW_LABEL,
    Cell,
    GridLayout,
    GridSizes,
    Pack,
    Tile,
    cell_tiles,
)
from naive_nb.display.views import ViewCache, view_name

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

CELL_PADDING = 2  # CSS px on each side of a cell: tiles 4 px apart
PACK_GAP = 2  # CSS px between the images packed in one cell
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
    """CSS sizes of a grid: one width for every image column, plus the row-header column.

    A cell holding several images of one job (a pack) shares its width between ``pack[0]``
    images side by side, in ``pack[1]`` rows."""

    tile_width: int
    aspect: float  # height / width of a tile whose own size is unknown (a failed one)
    header_width: int = 0  # the row-header column, padding included (0: no row headers)
    columns: int = 1
    pack: tuple[int, int] = (1, 1)

    def tile_height(self, tile: Tile | None, width: int | None = None) -> int:
        width = self.tile_width if width is None else width
        if tile is not None and tile.width and tile.height:
            return max(1, round(width * tile.height / tile.width))
        return max(1, round(width * self.aspect))

    @property
    def packed_width(self) -> int:
        """The width of each image in a pack."""
        across = self.pack[0]
        return max(1, (self.tile_width - PACK_GAP * (across - 1)) // across)

    def image_width(self, packed: bool) -> int:
        return self.packed_width if packed else self.tile_width

    @property
    def table_width(self) -> int:
        """What the grid takes across, padding included."""
        return self.header_width + self.columns * (self.tile_width + 2 * CELL_PADDING)


def _header_width(layout: GridLayout, sizes: GridSizes) -> int:
    """The row-header column: as wide as its longest header (up to 140 px), but never so wide
    that the tiles beside it drop under ``sizes.grid_tile_min`` where they could have it (long
    headers such as model names wrap instead)."""
    if not layout.row_headers:
        return 0
    longest = max(len(header) for header in layout.row_headers)
    wanted = min(140, max(40, longest * HEADER_CHAR_PX))
    columns = max(1, layout.columns)
    room = sizes.width - columns * (sizes.grid_tile_min + 2 * CELL_PADDING) - 2 * CELL_PADDING
    return max(40, min(wanted, room)) + 2 * CELL_PADDING


def geometry(layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES) -> GridGeometry:
    """How wide the tiles are drawn: as wide as the columns let them, a lone image large.

    With ``sizes.width`` of 820 (JupyterLab's output area in a 1280 px window): one image is
    640 px wide if square (at least ``single_min``, at most its own width); two side by side
    406 px; three 269 px; four 201 px; a 4x4 X/Y plot beside its ``steps n`` headers 186 px.
    Sections (Z values, facets) stack with the same columns, so their tiles are the same size.
    """
    columns = max(1, layout.columns)
    aspect = aspect_ratio(layout)
    header = _header_width(layout, sizes)
    pack = layout.pack_shape
    room = sizes.width - header - columns * 2 * CELL_PADDING
    width = room // columns
    if columns == 1 and pack == (1, 1):
        # a lone column: large, but not a poster; never under single_min when the room allows
        width = min(width, round(sizes.single_height / aspect))
        width = max(width, min(sizes.single_min, room))
    natural = [t.width for t in layout.tiles if t.width]
    if natural:
        # never blown up past the image's own size (a packed image: its share of the cell)
        width = min(width, min(natural) * pack[0] + PACK_GAP * (pack[0] - 1))
    width = max(width, sizes.thumb_side)
    return GridGeometry(
        tile_width=width,
        aspect=aspect,
        header_width=header,
        columns=columns,
        pack=pack,
    )


# ---------------------------------------------------------------------------------------------
# bytes

Key = tuple[int, int, int]  # (row, column, image in the cell)


@dataclass(frozen=True)
class Embedding:
    """The JPEGs of a grid's tiles at one pixel density and quality (keyed by row, column and
    the image's place in its cell)."""

    density: float
    quality: int
    images: dict[Key, bytes]


def _positions(layout: GridLayout) -> Iterator[tuple[Key, Tile, bool]]:
    """(key, tile, packed) of every tile with an image."""
    for r, row in enumerate(layout.rows):
        for c, cell in enumerate(row):
            for k, tile in enumerate(cell_tiles(cell)):
                if tile.data is not None:
                    yield (r, c, k), tile, isinstance(cell, Pack)


def _ladder(max_density: float) -> list[tuple[float, int]]:
    steps = [(d, q) for d in DENSITIES if d <= max_density for q in QUALITIES]
    if not steps or steps[0][0] < max_density:  # e.g. a 1.6x cap from the image's own size
        steps = [(max_density, q) for q in QUALITIES] + steps
    return steps + [step for step in LAST_RESORT if step[0] <= max_density]


def _encode(image: Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # comment=b"": Pillow would copy the stored file's own comment (its provenance: job id,
    # backend host and port, times) into every tile; the output's metadata says it once
    image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True, comment=b"")
    return buffer.getvalue()


def _natural_width(data: bytes) -> int:
    """The image's own width, from its header (nothing decoded)."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as image:
        return int(image.width)


@dataclass
class _Source:
    """One tile to embed: its CSS size, the size it is decoded at, and (once needed) its
    decoded pixels; a re-run finds every encoding in the view cache and decodes nothing."""

    tile: Tile
    css: tuple[int, int]
    decoded_size: tuple[int, int]
    picture: Image | None = None


def embed(
    layout: GridLayout,
    box: GridGeometry,
    sizes: GridSizes,
    fits: Callable[[Embedding], bool],
    views: ViewCache | None = None,
) -> tuple[Embedding, dict[Key, str]]:
    """The sharpest embedding (density, then quality, the same for all tiles) that ``fits``.

    Each encoding is looked up in ``views`` first and kept there once made. Returns the
    embedding and the tiles that could not be decoded (with a reason)."""
    from PIL import Image as PILImage

    sources: dict[Key, _Source] = {}
    broken: dict[Key, str] = {}
    max_density = sizes.density
    for key, tile, packed in _positions(layout):
        width = box.image_width(packed)
        css = (width, box.tile_height(tile, width))
        target = (round(css[0] * sizes.density), round(css[1] * sizes.density))
        try:
            natural = _natural_width(tile.data or b"")
        except Exception:  # an undecodable file shows as a failed tile, not a failed output
            broken[key] = "image could not be decoded"
            continue
        sources[key] = _Source(tile, css, target)
        # never more pixels than the file has
        max_density = min(max_density, min(natural, target[0]) / css[0])
    max_density = max(0.5, round(max_density, 2))
    embedding = Embedding(0.0, 0, {})
    for density, quality in _ladder(max_density):
        images = {}
        for key, source in list(sources.items()):
            size = (
                max(1, round(source.css[0] * density)),
                max(1, round(source.css[1] * density)),
            )
            name = view_name(source.tile.sha256 or "", source.decoded_size, size, quality)
            data = views.get(source.tile, name) if views is not None else None
            if data is None:
                if source.picture is None:
                    try:
                        source.picture = decode(source.tile.data or b"", source.decoded_size)
                    except Exception:  # a header that opens, pixels that do not
                        broken[key] = "image could not be decoded"
                        del sources[key]
                        continue
                picture = source.picture
                if picture.size != size:
                    picture = picture.resize(size, PILImage.Resampling.LANCZOS)
                data = _encode(picture, quality)
                if views is not None:
                    views.put(source.tile, name, data)
            images[key] = data
        embedding = Embedding(density, quality, images)
        if fits(embedding):
            break
    return embedding, broken


# ---------------------------------------------------------------------------------------------
# markup


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


def _breakable(text: str) -> str:
    """``text`` escaped, with a line-break opportunity after each ``/``, ``-`` and ``_``, so a
    model id in a narrow header wraps between its parts (``flux-pro/`` ``v1.1``)."""
    return re.sub(r"([/_-])", r"\1<wbr>", html.escape(text))


def _header_cell(
    text: str, align: str, valign: str, width: int = 0, span: int = 1, gap: bool = False
) -> str:
    """A header; ``span`` > 1 is a section heading across the grid (``gap``: space above)."""
    sized = f' width="{width}"' if width else ""
    spanned = f' colspan="{span}"' if span > 1 else ""
    style = f"text-align:{align};vertical-align:{valign};overflow-wrap:anywhere" + (
        f";width:{width}px" if width else ""
    )
    if span > 1:
        style += f";font-size:1.15em;padding-top:{10 if gap else 2}px"
    # <td> with <b>, not <th>: front-end stylesheets style th (VS Code: bold off in tbody)
    content = f"<b>{_breakable(text)}</b>" if text else ""
    return _cell(f'align="{align}" valign="{valign}"{sized}{spanned}', style, content)


def _image(tile: Tile, data: bytes, width: int, packed: bool = False) -> str:
    esc = html.escape
    size = f" ({tile.width}x{tile.height})" if tile.width and tile.height else ""
    alt = esc(tile.caption + size)
    # the tooltip: every parameter of the tile (headers included) and where its file is
    tip = alt + (f"; full-size file: {esc(tile.path)}" if tile.path else "")
    image = (
        f'<img src="{_data_uri(data)}" width="{width}" alt="{alt}" '
        f'title="{tip}" style="width:{width}px;height:auto;max-width:100%;'
        f'vertical-align:top{";margin-bottom:2px" if packed else ""}">'
    )
    if tile.path:
        image = f'<a href="{esc(tile.path)}">{image}</a>'
    return image


def _blank(tile: Tile, width: int, height: int, reason: str | None) -> str:
    """A tile without an image: a grey box of the tile's size saying why, and the job id."""
    esc = html.escape
    heading, text, job = failure_lines(tile, reason)
    lines = [f"<b>{esc(heading)}</b>"] + [esc(t) for t in (text,) if t]
    if job:
        lines.append(f"<small>{esc(job)}</small>")
    return (
        f'<table border="0" cellspacing="0" cellpadding="6" width="{width}" '
        f'style="{_TABLE_STYLE};width:{width}px"><tr style="{_ROW_STYLE}">'
        f'<td align="center" valign="middle" height="{height}" style="{_CELL_STYLE};'
        f"text-align:center;vertical-align:middle;height:{height}px;background:{FAILED_FILL};"
        f'color:{RED};border:1px solid {RED};overflow-wrap:anywhere">'
        + "<br>".join(lines)
        + "</td></tr></table>"
    )


def _tile_cell(
    cell: Cell,
    key: tuple[int, int],
    box: GridGeometry,
    embedding: Embedding,
    broken: dict[Key, str],
    headers: Sequence[str],
) -> str:
    esc = html.escape
    align = 'align="center" valign="top"'
    style = "text-align:center;vertical-align:top"
    if cell is None:
        return _cell(align, style, "")
    if isinstance(cell, Pack):
        width, across = box.packed_width, box.pack[0]
        parts = []
        for k, tile in enumerate(cell.tiles):
            full = (*key, k)
            if full in embedding.images:
                parts.append(_image(tile, embedding.images[full], width, packed=True))
            else:
                parts.append(_blank(tile, width, box.tile_height(tile, width), broken.get(full)))
            if (k + 1) % across == 0 and k + 1 < len(cell.tiles):
                parts.append("<br>")
        caption = pack_caption(cell.tiles, headers)
        return _cell(align, style, " ".join(parts) + (f"<br>{esc(caption)}" if caption else ""))
    tile = cell
    width, height = box.tile_width, box.tile_height(tile)
    caption = visible_caption(tile.caption, headers)
    full = (*key, 0)
    if full in embedding.images:
        below = f"<br>{esc(caption)}" if caption else ""
        return _cell(align, style, _image(tile, embedding.images[full], width) + below)
    # the blank is a block (a table): its caption goes below without a break
    return _cell(align, style, _blank(tile, width, height, broken.get(full)) + esc(caption))


def render(
    layout: GridLayout, box: GridGeometry, embedding: Embedding, broken: dict[Key, str]
) -> str:
    """The HTML of a grid whose images are already encoded."""
    esc = html.escape
    parts = []
    if layout.headline:
        parts.append(f'<h3 style="margin:0 0 4px 0;text-align:left">{esc(layout.headline)}</h3>')
    parts.append(f'<p style="margin:0 0 2px 0;text-align:left"><b>{esc(layout.title)}</b></p>')
    if layout.local_preview:
        parts.append(
            f'<p style="margin:0 0 4px 0;text-align:left;color:{ORANGE}">'
            f"{esc(LOCAL_PREVIEW_LABEL)}</p>"
        )
    parts.append(
        f'<table border="0" cellspacing="0" cellpadding="{CELL_PADDING}" style="{_TABLE_STYLE}">'
    )
    corner_width = box.header_width - 2 * CELL_PADDING
    span = max(1, layout.columns) + (1 if layout.row_headers else 0)
    starts = {section.start: section for section in layout.sections}
    for r, row in enumerate(layout.rows):
        section = starts.get(r)
        if section is not None:
            # a Z value (or facet values): a heading across the grid, then its column headers
            heading = _header_cell(section.heading, "left", "bottom", span=span, gap=r > 0)
            parts.append(f'<tr style="{_ROW_STYLE}">{heading}</tr>')
        if layout.column_headers and (r == 0 or section is not None):
            corner = (
                [_header_cell("", "right", "bottom", corner_width)] if layout.row_headers else []
            )
            headers = [_header_cell(h, "center", "bottom") for h in layout.column_headers]
            parts.append(f'<tr style="{_ROW_STYLE}">' + "".join(corner + headers) + "</tr>")
        cells = []
        if layout.row_headers:
            row_header = layout.row_headers[r] if r < len(layout.row_headers) else ""
            cells.append(_header_cell(row_header, "right", "middle", corner_width))
        for c, cell in enumerate(row):
            headers = cell_headers(layout, r, c)
            cells.append(_tile_cell(cell, (r, c), box, embedding, broken, headers))
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
    layout: GridLayout,
    sizes: GridSizes = DEFAULT_SIZES,
    other_bytes: int = 0,
    views: ViewCache | None = None,
) -> HtmlView:
    """The grid as HTML within its notebook budget, counting ``other_bytes`` (the text/plain
    part) and an allowance for the provenance metadata of each image. ``views`` keeps the
    encodings (see :mod:`naive_nb.display.views`)."""
    box = geometry(layout, sizes)
    count = len(layout.tiles)
    allowed = sizes.budget(count) - other_bytes - sizes.metadata_bytes_per_image * count

    def fits(embedding: Embedding) -> bool:
        return stored_bytes(render(layout, box, embedding, {})) <= allowed

    embedding, broken = embed(layout, box, sizes, fits, views)
    return HtmlView(
        render(layout, box, embedding, broken), box, embedding.density, embedding.quality
    )


def html_table(
    layout: GridLayout,
    sizes: GridSizes = DEFAULT_SIZES,
    other_bytes: int = 0,
    views: ViewCache | None = None,
) -> str:
    """The grid as HTML within its notebook budget (see ``html_view``)."""
    return html_view(layout, sizes, other_bytes, views).html
