"""The grid as one labelled picture (``result.grid()``), the way AUTOMATIC1111 draws X/Y plots.

What is common goes in a title band, column and row headers label the axes, each tile has its
caption under it, and a failed cell is a labelled blank tile rather than a hole. Labels are drawn
into the pixels, so the picture explains itself wherever it is pasted or saved.
"""

from __future__ import annotations

import io
import statistics
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from naive_nb.display.grid_model import (
    DEFAULT_SIZES,
    LOCAL_PREVIEW_LABEL,
    GridLayout,
    GridSizes,
    Tile,
)

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image
    from PIL.ImageFont import FreeTypeFont, ImageFont

FAILED_FILL = (236, 236, 236)
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAINT_INK = (95, 95, 95)
RED = (178, 24, 24)
ORANGE = (196, 90, 0)


@lru_cache(maxsize=8)
def _font(size: int) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


def decode(data: bytes, size: tuple[int, int]) -> Image:
    """The image scaled to fit ``size`` (RGB); JPEGs decode at a reduced scale, which is fast."""
    from PIL import Image as PILImage

    source = PILImage.open(io.BytesIO(data))
    source.draft("RGB", size)
    image = source.convert("RGB")
    image.thumbnail(size, PILImage.Resampling.LANCZOS)
    return image


def aspect_ratio(layout: GridLayout) -> float:
    """Height over width of the grid's images (the median, so one odd tile does not rule)."""
    ratios = [t.height / t.width for t in layout.tiles if t.width and t.height]
    return statistics.median(ratios) if ratios else 1.0


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


def composite(layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES) -> Image:
    """The grid as one Pillow image, tiles and all labels drawn into the pixels."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    columns = max(1, layout.columns)
    row_count = max(1, len(layout.rows))
    header_width = 0
    if layout.row_headers:
        header_width = min(160, max(64, sizes.composite_side // 8))
    gap = 2 if columns > 4 else 4
    aspect = aspect_ratio(layout)
    # labels are sized for the largest tiles; the tiles then shrink to fit composite_side
    font_size = max(10, min(16, sizes.tile_side // 14))
    font, small = _font(font_size), _font(max(9, font_size - 2))
    caption_height = font_size + 8
    title_lines = 2 if layout.local_preview else 1
    title_height = title_lines * (font_size + 6) + 8
    column_header_height = font_size + 10 if layout.column_headers else 0
    room_w = sizes.composite_side - header_width - gap * (columns + 1)
    room_h = (
        sizes.composite_side
        - title_height
        - column_header_height
        - row_count * (caption_height + gap)
        - gap
    )
    # the longest side of a tile is capped, so a 16:9 tile is wide rather than a square box
    tile_w = min(
        int(sizes.tile_side / max(1.0, aspect)),
        max(48, room_w // columns),
        max(48, int(room_h // row_count / aspect)),
    )
    tile_h = max(24, round(tile_w * aspect))
    width = header_width + columns * (tile_w + gap) + gap
    height = title_height + column_header_height + row_count * (tile_h + caption_height + gap) + gap
    canvas = PILImage.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)

    draw.text((gap + 2, 4), _fit(layout.title, font, width - 8), font=font, fill=INK)
    if layout.local_preview:
        notice = _fit(LOCAL_PREVIEW_LABEL, font, width - 8)
        draw.text((gap + 2, 4 + font_size + 6), notice, font=font, fill=ORANGE)
    top = title_height
    for index, header in enumerate(layout.column_headers[:columns]):
        x = header_width + gap + index * (tile_w + gap)
        draw.text((x + 2, top + 3), _fit(header, font, tile_w - 4), font=font, fill=INK)
    top += column_header_height

    for row_index, row in enumerate(layout.rows):
        y = top + row_index * (tile_h + caption_height + gap)
        if row_index < len(layout.row_headers):
            label = layout.row_headers[row_index]
            for n, line in enumerate(_wrap(label, font, header_width - 8, 3)):
                draw.text(
                    (gap + 2, y + tile_h // 2 - font_size + n * (font_size + 2)),
                    line,
                    font=font,
                    fill=INK,
                )
        for column_index, cell in enumerate(row):
            if cell is None:
                continue
            x = header_width + gap + column_index * (tile_w + gap)
            _draw_tile(canvas, draw, cell, (x, y, tile_w, tile_h), font, small, font_size)
    return canvas


def _draw_tile(
    canvas: Image,
    draw: Any,
    cell: Tile,
    box: tuple[int, int, int, int],
    font: FreeTypeFont | ImageFont,
    small: FreeTypeFont | ImageFont,
    font_size: int,
) -> None:
    x, y, w, h = box
    if cell.data is not None:
        try:
            picture = decode(cell.data, (w, h))
        except Exception:  # an undecodable file shows as a failed tile, not a failed output
            cell = Tile(caption=cell.caption, error="image could not be decoded")
        else:
            canvas.paste(picture, (x + (w - picture.width) // 2, y + (h - picture.height) // 2))
    if cell.data is None:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=FAILED_FILL, outline=RED)
        draw.text((x + 6, y + 6), "FAILED", font=font, fill=RED)
        lines = max(1, (h - 24) // (font_size + 2))
        for n, line in enumerate(_wrap(cell.error or "no image", small, w - 12, min(6, lines))):
            draw.text((x + 6, y + 10 + (n + 1) * (font_size + 2)), line, font=small, fill=RED)
    colour = RED if cell.data is None else FAINT_INK
    draw.text((x + 2, y + h + 3), _fit(cell.caption, font, w - 4), font=font, fill=colour)
