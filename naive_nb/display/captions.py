"""What a tile's caption says once the headers around it have spoken, and what a tile without
an image says: shared by the HTML view and the composite."""

from __future__ import annotations

import re
from collections.abc import Sequence

from naive_nb.display.grid_model import GridLayout, Tile
from naive_nb.display.tile_words import failure_heading

__all__ = ["cell_headers", "failure_lines", "pack_caption", "visible_caption"]


def visible_caption(caption: str, headers: Sequence[str]) -> str:
    """The caption without what the row and column headers (and section heading) already say.

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


def cell_headers(layout: GridLayout, row: int, column: int) -> list[str]:
    """What the headers around a cell say: its column's, its row's, its section's parts."""
    found = []
    if column < len(layout.column_headers):
        found.append(layout.column_headers[column])
    if row < len(layout.row_headers):
        found.append(layout.row_headers[row])
    section = layout.section_of(row)
    if section is not None:
        found.extend(section.parts or (section.heading,))
    return [header for header in found if header]


def pack_caption(tiles: Sequence[Tile], headers: Sequence[str]) -> str:
    """What the images of a pack share and no header says (their numbers are their order)."""
    shown = [re.sub(r"(^| \| )#\d+$", "", visible_caption(t.caption, headers)) for t in tiles]
    return shown[0] if shown and all(text == shown[0] for text in shown) else ""


def failure_lines(tile: Tile, reason: str | None = None) -> tuple[str, str, str]:
    """(heading, reason, job line) of a tile without an image: each said once."""
    heading = failure_heading(tile.code)
    reason = reason or tile.error or "no image"
    if reason == heading:
        reason = ""
    job = f"job {tile.job_id}" if tile.job_id and tile.job_id not in reason else ""
    return heading, reason, job
