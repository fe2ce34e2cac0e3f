"""Encoded views of stored images, kept so that showing a result again encodes nothing.

The HTML view embeds each tile as a JPEG drawn to its size on screen, found by trying
densities and qualities until the result fits its notebook budget. A re-run of a cached cell
shows the same files at the same sizes, so it asks for the same encodings: each one is kept in
a ``.views`` folder beside its full-size file, named by the file's sha256 and every parameter
the bytes depend on (decoded size, drawn size, quality, a format version). Several kernels may
share a store: a view is written under a name of its own and moved into place (the store's
``write_atomic``), so a reader never sees half of one. A folder that cannot be written (a
read-only checkout) only means views are encoded again; a view that is not a whole JPEG is
ignored.
"""

from __future__ import annotations

from pathlib import Path

from naive_nb.display.grid_model import Tile
from naive_nb.run.store import write_atomic

__all__ = ["FOLDER", "ViewCache", "view_name"]

FOLDER = ".views"
#: bump when the way a view is encoded changes (resampling, encoder options)
VERSION = 1


def view_name(sha256: str, decoded: tuple[int, int], drawn: tuple[int, int], quality: int) -> str:
    """The file name of one encoding of the file with this sha256."""
    return f"{sha256}-{decoded[0]}x{decoded[1]}-{drawn[0]}x{drawn[1]}-q{quality}-v{VERSION}.jpeg"


class ViewCache:
    """Views kept beside the full-size files of the tiles (tiles without one: none kept).

    ``hits`` and ``stored`` count what happened (for tests and the benchmark)."""

    def __init__(self) -> None:
        self.hits = 0
        self.stored = 0

    @staticmethod
    def _path(tile: Tile, name: str) -> Path | None:
        if tile.source is None or not tile.sha256:
            return None
        return tile.source.parent / FOLDER / name

    def get(self, tile: Tile, name: str) -> bytes | None:
        path = self._path(tile, name)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not (data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")):
            return None  # not a whole JPEG: encoded again (and rewritten)
        self.hits += 1
        return data

    def put(self, tile: Tile, name: str, data: bytes) -> None:
        path = self._path(tile, name)
        if path is None:
            return
        try:
            path.parent.mkdir(exist_ok=True)
            write_atomic(path, data)
        except OSError:
            return  # a read-only store: views are encoded each time, nothing else changes
        self.stored += 1
