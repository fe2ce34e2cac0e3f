"""The grid as one labelled picture, the way AUTOMATIC1111 draws X/Y/Z plots, readable at every
zoom: what ``r.grid().save("compare.png")`` writes and ``r.grid().image`` gives.

- Tiles at full resolution by default (``scale``), each in a frame (``line_color``) with
  margins between them, so white images do not melt into the background.
- Headers drawn into the pixels, sized from the tile (as A1111: (width + height) / 25), wrapped
  to their box and shrunk until every label of the axis fits: **one font size per axis**
  (column headers, row headers, section headings), so values read as a set.
- An optional ``title`` over the line of what every tile shares (model, size, prompt), the
  local-preview notice when it applies, section headings (Z values, facets), and a caption
  under a tile only for what no header says.
- A tile without an image is a grey framed box that says why (its failure's heading, the
  reason, the job id); the grid keeps its shape.
- A size cap (``max_pixels``): a picture over it is refused before any pixel is allocated,
  with its size and how to make it smaller.

The labels' fonts and fitting are :mod:`naive_nb.display.labels`.
"""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from naive_nb.display.captions import cell_headers, failure_lines, pack_caption, visible_caption
from naive_nb.display.grid_model import (
    DEFAULT_SIZES,
    LOCAL_PREVIEW_LABEL,
    GridLayout,
    GridSizes,
    Pack,
    Tile,
    cell_tiles,
)
from naive_nb.display.labels import (
    Labels,
    draw_lines,
    fit_labels,
    line_height,
    load_font,
    text_width,
)

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

FAILED_FILL = (236, 236, 236)
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAINT_INK = (95, 95, 95)
RED = (178, 24, 24)
ORANGE = (196, 90, 0)
LINE = (150, 150, 150)
#: the largest composite drawn unless asked otherwise (Pillow warns about opening files over
#: ~89 MP, and a 50 MP RGB picture already takes 150 MB of memory)
MAX_PIXELS = 50_000_000


class CompositeTooLarge(ValueError):
    """The composite would be larger than its cap: ``width`` x ``height`` over ``limit`` pixels."""

    def __init__(self, width: int, height: int, limit: int) -> None:
        self.width, self.height, self.limit = width, height, limit
        fit = (limit / (width * height)) ** 0.5
        super().__init__(
            f"The composite would be {width}x{height} px ({width * height / 1e6:.1f} MP), over "
            f"the cap of {limit / 1e6:g} MP (max_pixels). Draw it smaller with scale="
            f"{max(0.05, int(fit * 20) / 20):g} (e.g. .save(path, scale=...)), show fewer "
            "values with r.grid(where={...}), or raise the cap with max_pixels=..."
        )


@dataclass(frozen=True)
class CompositeStyle:
    """How the composite is drawn. ``None`` sizes follow the tile size.

    ``scale``: tile pixels per pixel of the full-size files (1.0: full resolution);
    ``title``: a line over everything (None: the grid's own ``headline``); ``font_size``: the
    header size in px before shrinking to fit; ``margin``: px between tiles;
    ``line_color``/``line_width``: the frame of each tile (width 0: none); ``max_pixels``: the
    cap; ``captions``: False draws no caption under the tiles."""

    scale: float = 1.0
    title: str | None = None
    font_size: int | None = None
    margin: int | None = None
    line_color: tuple[int, int, int] = LINE
    line_width: int | None = None
    background: tuple[int, int, int] = BACKGROUND
    max_pixels: int = MAX_PIXELS
    captions: bool = True


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


# ---------------------------------------------------------------------------------------------
# geometry


@dataclass
class Frame:
    """Where everything goes (all in px); computed before any pixel is drawn."""

    width: int = 0
    height: int = 0
    pad: int = 0
    margin: int = 0
    line: int = 0
    image: tuple[int, int] = (0, 0)  # the box of one image
    pack: tuple[int, int] = (1, 1)
    inner: int = 0  # gap between the images of a pack
    cell: tuple[int, int] = (0, 0)
    row_header_width: int = 0
    caption_height: int = 0
    column_headers: Labels | None = None
    row_headers: Labels | None = None
    headings: Labels | None = None
    title: Labels | None = None
    subtitle: Labels | None = None
    notice: Labels | None = None
    captions: Labels | None = None
    caption_texts: dict[tuple[int, int], str] = field(default_factory=dict)
    top: int = 0  # where the first section starts
    row_tops: list[int] = field(default_factory=list)
    heading_tops: dict[int, int] = field(default_factory=dict)  # section start row -> y
    header_tops: dict[int, int] = field(default_factory=dict)  # row -> y of column headers
    column_header_height: int = 0
    heading_height: int = 0
    base: int = 0


def _image_box(layout: GridLayout, scale: float) -> tuple[int, int]:
    tiles = [t for t in layout.tiles if t.width and t.height]
    if not tiles:  # failures only: a square of a typical size
        side = max(16, round(512 * scale))
        return (side, side)
    width = max(t.width or 0 for t in tiles)
    height = max(t.height or 0 for t in tiles)
    return (max(16, round(width * scale)), max(16, round(height * scale)))


def _visible_captions(layout: GridLayout) -> dict[tuple[int, int], str]:
    found = {}
    for r, row in enumerate(layout.rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            headers = cell_headers(layout, r, c)
            if isinstance(cell, Pack):
                text = pack_caption(cell.tiles, headers)
            else:
                text = visible_caption(cell.caption, headers)
            if text:
                found[(r, c)] = text
    return found


def frame(layout: GridLayout, style: CompositeStyle) -> Frame:
    """Every size and place of the composite, without drawing it."""
    f = Frame()
    f.image = _image_box(layout, style.scale)
    f.pack = layout.pack_shape
    cell_w0 = f.image[0] * f.pack[0]
    cell_h0 = f.image[1] * f.pack[1]
    base = style.font_size or max(12, min(96, (cell_w0 + cell_h0) // 25))
    f.base = base
    f.margin = style.margin if style.margin is not None else max(6, base // 3)
    f.line = style.line_width if style.line_width is not None else max(1, f.margin // 8)
    f.margin = max(f.margin, 2 * f.line + 2)
    f.inner = max(2, f.margin // 3)
    f.cell = (
        cell_w0 + f.inner * (f.pack[0] - 1),
        cell_h0 + f.inner * (f.pack[1] - 1),
    )
    f.pad = f.margin + base // 2
    minimum = max(10, base // 3)
    columns = max(1, layout.columns)
    cell_w, cell_h = f.cell

    if layout.row_headers:
        natural = max(text_width(h, load_font(base, True)) for h in layout.row_headers)
        f.row_header_width = int(min(max(natural + 2, base * 3), max(base * 3, cell_w * 3 // 4)))
        lines = max(1, min(6, cell_h // line_height(base)))
        f.row_headers = fit_labels(
            layout.row_headers, f.row_header_width, lines, base, minimum, True
        )
    left = f.pad + (f.row_header_width + f.margin if layout.row_headers else 0)
    grid_width = columns * cell_w + (columns - 1) * f.margin
    f.width = left + grid_width + f.pad
    content = f.width - 2 * f.pad

    if layout.column_headers:
        f.column_headers = fit_labels(layout.column_headers, cell_w, 3, base, minimum, True)
        f.column_header_height = f.column_headers.height + f.margin // 2
    headings = [s.heading for s in layout.sections if s.heading]
    if headings:
        size = round(base * 1.15)
        f.headings = fit_labels(headings, content, 2, size, minimum, True)
        f.heading_height = f.headings.height + f.margin // 2
    if style.captions:
        f.caption_texts = _visible_captions(layout)
    if f.caption_texts:
        texts = list(f.caption_texts.values())
        f.captions = fit_labels(texts, cell_w, 2, max(10, round(base * 0.6)), minimum, False)
        f.caption_height = f.captions.height + f.margin // 3

    y = f.pad
    headline = layout.headline if style.title is None else style.title
    if headline:
        f.title = fit_labels([headline], content, 2, round(base * 1.4), minimum, True)
        y += f.title.height + f.margin // 2
    if layout.title:
        f.subtitle = fit_labels([layout.title], content, 3, round(base * 0.75), minimum, False)
        y += f.subtitle.height
    if layout.local_preview:
        f.notice = fit_labels([LOCAL_PREVIEW_LABEL], content, 2, round(base * 0.75), minimum, False)
        y += f.notice.height
    y += f.margin
    f.top = y
    starts = {s.start for s in layout.sections if s.heading}
    for r in range(len(layout.rows)):
        if r in starts:
            if r > 0:
                y += f.margin  # a wider gap before a new section
            f.heading_tops[r] = y
            y += f.heading_height
        if f.column_headers is not None and (r == 0 or r in starts):
            f.header_tops[r] = y
            y += f.column_header_height
        f.row_tops.append(y)
        y += cell_h + f.caption_height + f.margin
    f.height = y - f.margin + f.pad
    return f


# ---------------------------------------------------------------------------------------------
# drawing


def draw_composite(layout: GridLayout, style: CompositeStyle = CompositeStyle()) -> Image:
    """The grid as one Pillow image; raises :class:`CompositeTooLarge` over the cap."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    f = frame(layout, style)
    if f.width * f.height > style.max_pixels:
        raise CompositeTooLarge(f.width, f.height, style.max_pixels)
    canvas = PILImage.new("RGB", (f.width, f.height), style.background)
    draw = ImageDraw.Draw(canvas)
    content = f.width - 2 * f.pad
    y = f.pad
    for labels, colour in ((f.title, INK), (f.subtitle, FAINT_INK), (f.notice, ORANGE)):
        if labels is not None:
            draw_lines(
                draw, labels.lines[0], (f.pad, y, content, labels.height), labels, colour, "left"
            )
            y += labels.height + (f.margin // 2 if labels is f.title else 0)

    left = f.pad + (f.row_header_width + f.margin if layout.row_headers else 0)
    cell_w, cell_h = f.cell
    headings = {s.start: n for n, s in enumerate(s for s in layout.sections if s.heading)}
    for r, row in enumerate(layout.rows):
        if r in f.heading_tops and f.headings is not None:
            lines = f.headings.lines[headings[r]]
            box = (f.pad, f.heading_tops[r], content, f.headings.height)
            draw_lines(draw, lines, box, f.headings, INK, "left", "bottom")
        if r in f.header_tops and f.column_headers is not None:
            for c in range(len(layout.column_headers)):
                x = left + c * (cell_w + f.margin)
                box = (x, f.header_tops[r], cell_w, f.column_headers.height)
                lines = f.column_headers.lines[c]
                draw_lines(draw, lines, box, f.column_headers, INK, "center", "bottom")
        top = f.row_tops[r]
        if f.row_headers is not None and r < len(layout.row_headers):
            box = (f.pad, top, f.row_header_width, cell_h)
            draw_lines(draw, f.row_headers.lines[r], box, f.row_headers, INK, "right")
        for c, cell in enumerate(row):
            if cell is None:
                continue
            x = left + c * (cell_w + f.margin)
            tiles = cell_tiles(cell)
            across = f.pack[0] if isinstance(cell, Pack) else 1
            for k, tile in enumerate(tiles):
                if isinstance(cell, Pack):
                    box = (
                        x + (k % across) * (f.image[0] + f.inner),
                        top + (k // across) * (f.image[1] + f.inner),
                        f.image[0],
                        f.image[1],
                    )
                else:
                    box = (x, top, cell_w, cell_h)
                _draw_tile(canvas, draw, tile, box, f, style)
            caption = f.caption_texts.get((r, c))
            if caption and f.captions is not None:
                index = list(f.caption_texts).index((r, c))
                box = (x, top + cell_h + f.margin // 6, cell_w, f.captions.height)
                colour = RED if all(t.failed for t in tiles) else FAINT_INK
                draw_lines(draw, f.captions.lines[index], box, f.captions, colour, "center", "top")
    return canvas


def _draw_tile(
    canvas: Image,
    draw: Any,
    tile: Tile,
    box: tuple[int, int, int, int],
    f: Frame,
    style: CompositeStyle,
) -> None:
    x, y, w, h = box
    reason: str | None = None
    if tile.data is not None:
        try:
            picture = decode(tile.data, (w, h))
        except Exception:  # an undecodable file shows as a failed tile, not a failed output
            reason = "image could not be decoded"
        else:
            px, py = x + (w - picture.width) // 2, y + (h - picture.height) // 2
            canvas.paste(picture, (px, py))
            if f.line:
                _frame_line(draw, (px, py, picture.width, picture.height), f.line, style.line_color)
            return
    _draw_blank(draw, tile, box, f, reason)


def _frame_line(
    draw: Any, box: tuple[int, int, int, int], width: int, colour: tuple[int, int, int]
) -> None:
    x, y, w, h = box
    draw.rectangle(
        (x - width, y - width, x + w + width - 1, y + h + width - 1), outline=colour, width=width
    )


def _draw_blank(
    draw: Any, tile: Tile, box: tuple[int, int, int, int], f: Frame, reason: str | None
) -> None:
    """A grey box that says why there is no image; the middle stays grey (a blank, at a
    glance), the words sit at the top and the job id at the bottom."""
    x, y, w, h = box
    border = max(2, f.line)
    draw.rectangle((x, y, x + w - 1, y + h - 1), fill=FAILED_FILL, outline=RED, width=border)
    inset = max(4, w // 24)
    inner = w - 2 * inset
    heading, text, job = failure_lines(tile, reason)
    minimum = max(9, f.base // 4)
    title = fit_labels([heading.upper()], inner, 2, max(10, round(f.base * 0.7)), minimum, True)
    draw_lines(
        draw,
        title.lines[0],
        (x + inset, y + inset, inner, title.height),
        title,
        RED,
        "center",
        "top",
    )
    room = int(h * 0.45) - inset - title.height
    size = max(9, round(f.base * 0.5))
    if text and room > 0:
        lines = max(1, room // line_height(size))
        words = fit_labels([text], inner, lines, size, minimum, False)
        top = y + inset + title.height
        draw_lines(
            draw, words.lines[0], (x + inset, top, inner, words.height), words, RED, "center", "top"
        )
    if job:
        small = fit_labels([job], inner, 2, size, minimum, False)
        box = (x + inset, y + h - inset - small.height, inner, small.height)
        draw_lines(draw, small.lines[0], box, small, RED, "center", "bottom")


# ---------------------------------------------------------------------------------------------
# the picture ``result.grid()`` used to return: the composite fitted to ``composite_side``


def fitted_scale(layout: GridLayout, side: int, tile_side: int) -> float:
    """The scale at which the composite's longest side is at most ``side`` px and no tile is
    larger than ``tile_side``."""
    natural = max(_image_box(layout, 1.0))
    scale = min(1.0, tile_side / natural)
    for _ in range(40):
        f = frame(layout, CompositeStyle(scale=scale, max_pixels=2**62))
        longest = max(f.width, f.height)
        if longest <= side:
            break
        scale *= min(0.97, side / longest)
    return scale


def composite(layout: GridLayout, sizes: GridSizes = DEFAULT_SIZES) -> Image:
    """The labelled grid fitted to ``sizes.composite_side`` (a picture to paste elsewhere)."""
    scale = fitted_scale(layout, sizes.composite_side, sizes.tile_side)
    return draw_composite(layout, CompositeStyle(scale=scale))
