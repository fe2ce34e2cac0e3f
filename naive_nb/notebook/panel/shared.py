"""What the parts of one panel share: its widgets, its one lock, where its background work runs,
where its errors go, its session, and whether it is closed.

The panel (:mod:`naive_nb.notebook.panel.panel`) hands this one object to each of its parts
(:mod:`.form`, :mod:`.pricing`, :mod:`.following`), so every widget write goes through the same
lock, whichever part makes it and from whichever thread. The panel's module docstring says who
writes what, from where.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.notebook.panel.background import Background
    from naive_nb.notebook.panel.errors import ErrorSink
    from naive_nb.notebook.panel.view import PanelView
    from naive_nb.run import Session

__all__ = ["PanelShared"]


@dataclass(eq=False)
class PanelShared:
    """One panel's widgets and their lock, its background, its error sink and its session."""

    view: PanelView
    background: Background
    sink: ErrorSink
    #: the panel's session: the one it was given, or the kernel's as it is now
    session: Callable[[], Session]
    #: held for every widget write, from whichever thread; reentrant, as showing a run takes it
    #: again under a caller that holds it
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: set under the lock by ``Panel.close()``; nothing is shown once it is
    closed: bool = False
