"""Labels drawn into a picture: fonts, words wrapped to a box, and one font size for a set.

A header set (every column header of an axis, say) is fitted together: the largest size from
the one the tile calls for down to a floor at which every label wraps into its lines without
breaking a word (a long name may break after ``-``, ``/`` or ``_``), so the values of an axis
read as a set. At the floor, words break where they must and the last line ends in "...".

The fonts are DejaVu Sans when the system has it (most Linux systems; wide Unicode coverage),
else the font bundled with Pillow; text is laid out with Pillow's basic engine, so the same text
on the same machine gives the same pixels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from PIL.ImageFont import FreeTypeFont, ImageFont

    Font = FreeTypeFont | ImageFont

__all__ = ["Labels", "draw_lines", "fit_labels", "line_height", "load_font", "text_width"]

_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


@lru_cache(maxsize=64)
def load_font(size: int, bold: bool = False) -> Font:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(
            _FONT_FILES[1 if bold else 0], size, layout_engine=ImageFont.Layout.BASIC
        )
    except OSError:  # no DejaVu on this system: Pillow's own font
        pass
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


def line_height(size: int) -> int:
    return round(size * 1.25)


def text_width(text: str, font: Font) -> float:
    return float(font.getlength(text))


def _ellipsis(text: str, font: Font, width: int) -> str:
    if text_width(text, font) <= width:
        return text
    while text and text_width(text + "...", font) > width:
        text = text[:-1]
    return text + "..."


def _pieces(word: str) -> list[str]:
    """A word cut after each ``-``, ``/`` or ``_`` (``fal-ai/flux-pro`` -> ``fal-``, ``ai/``,
    ``flux-``, ``pro``): where a long name may break."""
    return [piece for piece in re.split(r"(?<=[-/_])", word) if piece]


def _wrap(text: str, font: Font, width: int) -> tuple[list[str], bool]:
    """Words wrapped to ``width``: a word too wide for a line breaks after a ``-``, ``/`` or
    ``_``, else where it must (the second value says it had to)."""
    lines: list[str] = []
    line = ""
    forced = False
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if text_width(candidate, font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        for piece in _pieces(word):
            if text_width(line + piece, font) <= width:
                line += piece
                continue
            if line:
                lines.append(line)
            while text_width(piece, font) > width and len(piece) > 1:
                forced = True
                cut = len(piece) - 1
                while cut > 1 and text_width(piece[:cut], font) > width:
                    cut -= 1
                lines.append(piece[:cut])
                piece = piece[cut:]
            line = piece
    if line:
        lines.append(line)
    return (lines or [""]), forced


@dataclass(frozen=True)
class Labels:
    """A set of labels fitted to one box size at one font size (one size for the whole set)."""

    size: int
    bold: bool
    lines: tuple[tuple[str, ...], ...]

    @property
    def font(self) -> Font:
        return load_font(self.size, self.bold)

    @property
    def height(self) -> int:
        """The height of the tallest label."""
        return max((len(lines) for lines in self.lines), default=0) * line_height(self.size)


def fit_labels(
    labels: Sequence[str], width: int, max_lines: int, start: int, minimum: int, bold: bool
) -> Labels:
    """The largest size from ``start`` down to ``minimum`` at which every label wraps into
    ``max_lines`` lines of ``width`` px without breaking a word inside (names may break after
    ``-``, ``/``, ``_``); at ``minimum`` words break where they must and the last line is cut
    with "..."."""
    width, max_lines, minimum = max(1, width), max(1, max_lines), max(1, min(minimum, start))
    size = start
    while True:
        font = load_font(size, bold)
        results = [_wrap(label, font, width) for label in labels]
        wrapped = [lines for lines, _ in results]
        fits = all(len(lines) <= max_lines and not forced for lines, forced in results)
        if fits or size <= minimum:
            break
        size = max(minimum, size - max(1, size // 12))
    cut = []
    for lines in wrapped:
        if len(lines) > max_lines:
            lines = [
                *lines[: max_lines - 1],
                _ellipsis(" ".join(lines[max_lines - 1 :]), font, width),
            ]
        cut.append(tuple(_ellipsis(line, font, width) for line in lines))
    return Labels(size, bold, tuple(cut))


def draw_lines(
    draw: Any,
    lines: Sequence[str],
    box: tuple[int, int, int, int],
    labels: Labels,
    fill: tuple[int, int, int],
    align: str = "center",
    valign: str = "middle",
) -> None:
    x, y, w, h = box
    step = line_height(labels.size)
    total = step * len(lines)
    top = y + {"top": 0, "middle": (h - total) // 2, "bottom": h - total}[valign]
    font = labels.font
    for n, line in enumerate(lines):
        length = round(text_width(line, font))
        left = {"left": x, "center": x + (w - length) // 2, "right": x + w - length}[align]
        draw.text((left, top + n * step + (step - labels.size) // 2), line, font=font, fill=fill)
