"""Where the panel's errors go: next to the control they concern, and into a sink.

ipywidgets catches an exception raised in a callback and only logs it (in JupyterLab, to a log
console few people open), so a broken button looks like a button that does nothing. Every
callback of the panel runs under :meth:`ErrorSink.guard`: whatever it raises is recorded in
:attr:`ErrorSink.errors` (what tests assert on), logged with its traceback, and handed to the
panel to show; nothing is swallowed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["ErrorSink", "PanelError", "PanelInputError"]

log = logging.getLogger("naive_nb.panel")
T = TypeVar("T")
#: how a front end words an error: ``(field, message)``, or None when it is not one of ours
Words = Callable[[BaseException], "tuple[str | None, str] | None"]


class PanelInputError(ValueError):
    """A control's value the panel cannot turn into a request (``field``: the input key, or
    ``prompt`` / ``seeds`` / ``model``); the message is already worded for the panel."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PanelError:
    """One error the panel met: in which callback (``where``), the words shown, the exception."""

    where: str
    message: str
    field: str | None
    error: BaseException


class ErrorSink:
    """Every error of one panel, in order; :meth:`guard` wraps a callback so none is lost."""

    def __init__(self, show: Callable[[PanelError], None]) -> None:
        self._show = show
        self._lock = threading.Lock()
        self.errors: list[PanelError] = []

    def report(self, where: str, error: BaseException, message: str, field: str | None) -> None:
        entry = PanelError(where, message, field, error)
        with self._lock:
            self.errors.append(entry)
        try:
            self._show(entry)
        except Exception:  # showing it failed too: the log still has both
            log.exception("naive-nb panel: could not show an error")

    def guard(self, where: str, callback: Callable[..., T], word: Words) -> Callable[..., T | None]:
        """``callback``, with any exception it raises reported instead of escaping to
        ipywidgets' logger: ``word(error)`` gives the ``(field, message)`` to show, or None for
        an error that is not one of ours (a bug: shown as such, logged with its traceback)."""

        def guarded(*args: Any, **kwargs: Any) -> T | None:
            try:
                return callback(*args, **kwargs)
            except Exception as error:
                self.caught(where, error, word)
                return None

        return guarded

    def caught(self, where: str, error: BaseException, word: Words) -> None:
        """Report ``error``, caught in ``where`` (see :meth:`guard`)."""
        worded = word(error)
        if worded is None:
            log.error("naive-nb panel: %s failed", where, exc_info=error)
            message = f"Internal error in the panel ({where}): {type(error).__name__}: {error}"
            self.report(where, error, message, None)
        else:
            self.report(where, error, worded[1], worded[0])
