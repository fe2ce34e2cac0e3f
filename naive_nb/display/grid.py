"""Result grids in three mime types: a labelled JPEG composite, an HTML table, a text table.

The layout follows AUTOMATIC1111's X/Y/Z plot: what is common goes in a title band, what differs
labels each tile (and column/row headers when the grid has two axes), a failed cell is a labelled
blank tile rather than a hole, and the composite has a size cap so a 4x4 grid of 1024 px images
stays within the notebook budget (``DESIGN.md``: at most 300 KB per 16-image result).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image
    from PIL.ImageFont import FreeTypeFont, ImageFont

LOCAL_PREVIEW_LABEL = "LOCAL PREVIEW - naive-nb embedded server, not a real model"
FAILED_FILL = (236, 236, 236)
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAINT_INK = (95, 95, 95)
RED = (178, 24, 24)
ORANGE = (196, 90, 0)


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
    """Tiles in rows; headers label the axes when the grid has two (seed x image number)."""

    title: str
    rows: tuple[tuple[Tile | None, ...], ...]
    column_headers: tuple[str, ...] = ()
    row_headers: tuple[str, ...] = ()
    local_preview: bool = False

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
        """A flat list of tiles laid out as a near-square grid (each tile names itself)."""
        # up to max_columns side by side (a comparison reads best in one row), then near-square
        if len(tiles) <= max_columns:
            columns = max(1, len(tiles))
        else:
            columns = min(max_columns, math.ceil(math.sqrt(len(tiles))))
        rows = tuple(tuple(tiles[i : i + columns]) for i in range(0, len(tiles), columns))
        return cls(title=title, rows=rows, local_preview=local_preview)


@dataclass(frozen=True)
class GridSizes:
    """Size caps; the defaults keep a 16-image result well under the 300 KB notebook budget."""

    composite_side: int = 1024  # longest side of the JPEG composite, labels included
    tile_side: int = 224  # a tile never grows past this, even in a 1x1 grid
    composite_bytes: int = 110_000  # quality then scale step down until the JPEG fits
    thumb_side: int = 112  # HTML thumbnails
    thumb_quality: int = 55


# ---------------------------------------------------------------------------------------------
# JPEG composite


@lru_cache(maxsize=8)
def _font(size: int) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _decode(data: bytes, side: int) -> Image:
    from PIL import Image as PILImage

    source = PILImage.open(io.BytesIO(data))
    source.draft("RGB", (side, side))  # JPEG decodes at reduced scale: much faster for 1024 px
    image = source.convert("RGB")
    image.thumbnail((side, side))
    return image


def _fit(text: str, font: FreeTypeFont | ImageFont, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _wrap(text: str, font: FreeTypeFont | ImageFont, width: int, lines: int) -> list[str]:
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width or not line:
            line = candidate
        else:
            out.append(line)
            line = word
    if line:
        out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], _fit(" ".join(out[lines - 1 :]), font, width)]
    return [_fit(entry, font, width) for entry in out]


def composite(layout: GridLayout, sizes: GridSizes = GridSizes()) -> Image:
    """The grid as one Pillow image, tiles and all labels drawn into the pixels."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    columns = max(1, layout.columns)
    row_count = max(1, len(layout.rows))
    header_width = 0
    if layout.row_headers:
        header_width = min(160, max(64, sizes.composite_side // 8))
    gap = 2 if columns > 4 else 4
    room = sizes.composite_side - header_width - gap * (columns + 1)
    tile = min(sizes.tile_side, max(48, room // columns))
    font_size = max(10, min(16, tile // 14))
    font, small = _font(font_size), _font(max(9, font_size - 2))
    caption_height = font_size + 8
    title_lines = 2 if layout.local_preview else 1
    title_height = title_lines * (font_size + 6) + 8
    column_header_height = font_size + 10 if layout.column_headers else 0
    width = header_width + columns * (tile + gap) + gap
    height = title_height + column_header_height + row_count * (tile + caption_height + gap) + gap
    canvas = PILImage.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)

    draw.text((gap + 2, 4), _fit(layout.title, font, width - 8), font=font, fill=INK)
    if layout.local_preview:
        notice = _fit(LOCAL_PREVIEW_LABEL, font, width - 8)
        draw.text((gap + 2, 4 + font_size + 6), notice, font=font, fill=ORANGE)
    top = title_height
    for index, header in enumerate(layout.column_headers[:columns]):
        x = header_width + gap + index * (tile + gap)
        draw.text((x + 2, top + 3), _fit(header, font, tile - 4), font=font, fill=INK)
    top += column_header_height

    for row_index, row in enumerate(layout.rows):
        y = top + row_index * (tile + caption_height + gap)
        if row_index < len(layout.row_headers):
            for n, line in enumerate(
                _wrap(layout.row_headers[row_index], font, header_width - 8, 3)
            ):
                draw.text(
                    (gap + 2, y + tile // 2 - font_size + n * (font_size + 2)),
                    line,
                    font=font,
                    fill=INK,
                )
        for column_index, cell in enumerate(row):
            if cell is None:
                continue
            x = header_width + gap + column_index * (tile + gap)
            _draw_tile(canvas, draw, cell, (x, y), tile, font, small, font_size)
    return canvas


def _draw_tile(
    canvas: Image,
    draw: Any,
    cell: Tile,
    origin: tuple[int, int],
    tile: int,
    font: FreeTypeFont | ImageFont,
    small: FreeTypeFont | ImageFont,
    font_size: int,
) -> None:
    x, y = origin
    if cell.data is not None:
        try:
            picture = _decode(cell.data, tile)
        except Exception:  # an undecodable file shows as a failed tile, not a failed output
            cell = Tile(caption=cell.caption, error="image could not be decoded")
        else:
            canvas.paste(
                picture, (x + (tile - picture.width) // 2, y + (tile - picture.height) // 2)
            )
    if cell.data is None:
        draw.rectangle((x, y, x + tile - 1, y + tile - 1), fill=FAILED_FILL, outline=RED)
        draw.text((x + 6, y + 6), "FAILED", font=font, fill=RED)
        for n, line in enumerate(_wrap(cell.error or "no image", small, tile - 12, 6)):
            draw.text((x + 6, y + 10 + (n + 1) * (font_size + 2)), line, font=small, fill=RED)
    colour = RED if cell.data is None else FAINT_INK
    draw.text((x + 2, y + tile + 3), _fit(cell.caption, font, tile - 4), font=font, fill=colour)


def encode_jpeg(image: Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def composite_jpeg(layout: GridLayout, sizes: GridSizes = GridSizes()) -> bytes:
    """The composite as JPEG bytes within ``sizes.composite_bytes`` (quality, then scale, drop)."""
    image = composite(layout, sizes)
    data = b""
    for _ in range(6):
        for quality in (72, 62, 52):
            data = encode_jpeg(image, quality)
            if len(data) <= sizes.composite_bytes:
                return data
        image = image.resize((max(1, image.width * 4 // 5), max(1, image.height * 4 // 5)))
    return data


# ---------------------------------------------------------------------------------------------
# HTML and text


def thumbnail_jpeg(data: bytes, sizes: GridSizes = GridSizes()) -> bytes:
    return encode_jpeg(_decode(data, sizes.thumb_side), sizes.thumb_quality)


def _data_uri(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def html_table(layout: GridLayout, sizes: GridSizes = GridSizes()) -> str:
    """Thumbnails with captions; only inline attributes (GitHub strips <style> and <script>)."""
    esc = html.escape
    parts = [f"<p><b>{esc(layout.title)}</b></p>"]
    if layout.local_preview:
        parts.append(f'<p><span style="color:#c45a00">{esc(LOCAL_PREVIEW_LABEL)}</span></p>')
    parts.append('<table border="0" cellpadding="4">')
    if layout.column_headers:
        corner = "<th></th>" if layout.row_headers else ""
        headers = "".join(f"<th>{esc(h)}</th>" for h in layout.column_headers)
        parts.append(f"<tr>{corner}{headers}</tr>")
    for row_index, row in enumerate(layout.rows):
        cells = []
        if layout.row_headers:
            label = layout.row_headers[row_index] if row_index < len(layout.row_headers) else ""
            cells.append(f"<th>{esc(label)}</th>")
        for cell in row:
            cells.append(_html_cell(cell, sizes))
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def _html_cell(cell: Tile | None, sizes: GridSizes) -> str:
    esc = html.escape
    if cell is None:
        return "<td></td>"
    side = sizes.thumb_side
    if cell.data is not None:
        try:
            thumb = thumbnail_jpeg(cell.data, sizes)
        except Exception:
            cell = Tile(caption=cell.caption, error="image could not be decoded")
        else:
            image = (
                f'<img src="{_data_uri(thumb)}" alt="{esc(cell.caption)}" '
                f'title="{esc(cell.caption)}" width="{side}">'
            )
            if cell.path:
                image = f'<a href="{esc(cell.path)}">{image}</a>'
            return f'<td align="center" valign="top">{image}<br><sub>{esc(cell.caption)}</sub></td>'
    reason = esc(cell.error or "no image")
    return (
        f'<td align="center" valign="top" width="{side}"><span style="color:#b21818">'
        f"<b>failed</b><br>{reason}</span><br><sub>{esc(cell.caption)}</sub></td>"
    )


def text_table(layout: GridLayout) -> str:
    """seed, image size and file path of every tile: what a reader needs to find the files."""
    lines = [layout.title]
    if layout.local_preview:
        lines.append(LOCAL_PREVIEW_LABEL)
    rows = [("seed", "label", "size", "file")]
    for cell in layout.tiles:
        size = f"{cell.width}x{cell.height}" if cell.width and cell.height else "-"
        where = cell.path or "-" if not cell.failed else f"FAILED: {cell.error or 'no image'}"
        rows.append(("-" if cell.seed is None else str(cell.seed), cell.caption, size, where))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        lines.append(
            "  ".join(value.ljust(widths[i]) for i, value in enumerate(row[:3])) + "  " + row[3]
        )
    return "\n".join(lines)


def grid_bundle(layout: GridLayout, sizes: GridSizes = GridSizes()) -> dict[str, Any]:
    """The three-mime bundle of a grid (``image/jpeg`` base64-encoded, as Jupyter expects)."""
    return {
        "image/jpeg": base64.b64encode(composite_jpeg(layout, sizes)).decode("ascii"),
        "text/html": html_table(layout, sizes),
        "text/plain": text_table(layout),
    }
