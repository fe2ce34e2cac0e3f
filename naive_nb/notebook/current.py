"""The kernel's current :class:`Session`, shared by every front end in the notebook layer.

The magic registers itself when IPython loads it; its settings (``%config NaiveMagics``) are the
session's settings. The panel and ``naive_nb.compare()`` ask :func:`session` for the same
session, so a request behaves the same whichever front end made it (jupysql's ``_current``).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.notebook.magics import NaiveMagics
    from naive_nb.run import Session

__all__ = ["magics", "register", "session"]

_magics: weakref.ref[NaiveMagics] | None = None
_standalone: Session | None = None


def register(magics: NaiveMagics) -> None:
    """``magics`` is now the kernel's (the one ``%naive`` runs with)."""
    global _magics
    _magics = weakref.ref(magics)


def magics() -> NaiveMagics | None:
    """The loaded magic (its settings, progress mode and grid sizes), or None."""
    return _magics() if _magics is not None else None


def session() -> Session:
    """The session of the loaded magic, with its current settings; without one (plain Python,
    no ``%load_ext``), a session of default settings, kept for the life of the process."""
    global _standalone
    magics = _magics() if _magics is not None else None
    if magics is not None:
        return magics.session
    if _standalone is None:
        from naive_nb.run import Session

        _standalone = Session()
    return _standalone
