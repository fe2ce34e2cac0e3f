"""The live progress of a ``%naive`` run: one display, updated in place, ending in a summary.

Modes (``NaiveMagics.progress``):

- ``widget``: an ipywidgets bar with a text label (tqdm.notebook's look); red on failure;
- ``html``:   an HTML ``<progress>`` line updated by display id (any frontend, no widgets);
- ``text``:   one line rewritten with ``\\r`` (a terminal IPython);
- ``none``:   nothing until the summary.

Whatever the mode, :meth:`ProgressView.finish` replaces the display with the summary in
``text/plain`` and ``text/html``, so a saved or nbclient-executed notebook shows how the run
ended, never a bar frozen at 0 %. A small daemon thread re-renders every half second so elapsed
time moves even while the poller sleeps until near the server's estimate.

The view is the observer a front end hands to ``Session.run``: it shows the whole run
(:class:`naive_nb.run.RunProgress`), and appears with the first update, so a run served whole
from the cache (which reports nothing) shows only its summary.
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from dataclasses import replace
from typing import Any

from naive_nb.display.progress import (
    progress_bundle,
    progress_label_html,
    progress_text,
    summary_bundle,
    summary_text,
)
from naive_nb.notebook.config import MODES
from naive_nb.run.events import JobProgress, RunProgress, Summary

__all__ = ["MODES", "ProgressView", "detect_mode"]

TICK = 0.5


def _display(obj: Any, **options: Any) -> Any:
    from IPython.display import display

    return display(obj, **options)  # type: ignore[no-untyped-call]


def detect_mode(shell: Any) -> str:
    """``widget`` for an interactive Jupyter frontend, ``html`` for other kernels, else ``text``.

    A kernel cannot ask its frontend whether it renders widgets. Interactive frontends
    (JupyterLab, Notebook 7) send a ``cellId`` in each execute request's metadata; headless
    runners (nbclient, papermill, nbconvert) send none, and get the HTML display, which needs no
    widget state in the saved notebook.
    """
    kernel = getattr(shell, "kernel", None) if shell is not None else None
    if kernel is None:
        return "text"
    try:
        metadata = kernel.get_parent().get("metadata") or {}
    except Exception:  # an older or unusual kernel: the safe choice needs no widgets
        metadata = {}
    if "cellId" not in metadata:
        return "html"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return "html"
    return "widget"


class ProgressView:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._state = RunProgress((JobProgress("submitting"),))
        self._received = time.monotonic()  # when the state was reported (its elapsed then)
        self._start = time.monotonic()
        self.started = False
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()  # the ticker and the poller both render
        self._handle: Any = None
        self._widget: Any = None
        self._bar: Any = None
        self._label: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._last_line = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self._start = time.monotonic()
        if self.mode == "none":
            return
        if self.mode == "widget":
            self._start_widget()
        elif self.mode == "html":
            self._handle = _display(self._bundle(), raw=True, display_id=True)
        else:
            self._write_line(progress_text(self._current()))
        # copy the context so updates from the thread belong to this cell's output
        context = contextvars.copy_context()
        self._ticker = threading.Thread(
            target=context.run, args=(self._tick,), name="naive-nb-progress", daemon=True
        )
        self._ticker.start()

    def _start_widget(self) -> None:
        import ipywidgets as widgets

        self._bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info")
        self._label = widgets.HTML(value="")
        self._widget = widgets.HBox([self._bar, self._label])
        self._render_widget(self._current())
        self._handle = _display(self._widget, display_id=True)

    def update(self, state: RunProgress) -> None:
        """The run's new state (the display appears with the first one)."""
        with self._lock:
            self._state = state
            self._received = time.monotonic()
        if not self.started:
            self.start()
        self._render()

    def notice(self, notice: object) -> None:
        """Say why the run pauses (a client ``Notice``, or its text) until the next
        :meth:`update`."""
        with self._lock:
            self._state = replace(self._state, notice=str(notice))
        self._render()

    def finish(self, summary: Summary) -> None:
        # stop first, before anything that could be interrupted: the ticker checks this flag
        # before every render, so it cannot outlive the run whatever happens below
        self._stop.set()
        with self._render_lock:  # a render already under way completes before the summary
            pass
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        if self.mode == "text":
            self._write_line(summary_text(summary), final=True)
            return
        bundle = summary_bundle(summary)
        if self._handle is not None:
            self._handle.update(bundle, raw=True)
        else:
            _display(bundle, raw=True)
        if self._widget is not None:
            self._bar.bar_style = "success" if summary.ok else "danger"
            self._widget.close()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    # -- rendering ----------------------------------------------------------------------------
    def _current(self) -> RunProgress:
        """The last state, its clock moved on to now (the bar moves between updates)."""
        with self._lock:
            moved = time.monotonic() - self._received
            return replace(self._state, elapsed=self._state.elapsed + moved)

    def _bundle(self) -> dict[str, Any]:
        return progress_bundle(self._current())

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self._render()
            except Exception:  # a display hiccup must never break the run it reports on
                return

    def _render(self) -> None:
        with self._render_lock:
            if self._stop.is_set() or self.mode == "none":
                return
            state = self._current()
            if self.mode == "widget" and self._bar is not None:
                self._render_widget(state)
            elif self.mode == "html" and self._handle is not None:
                self._handle.update(progress_bundle(state), raw=True)
            elif self.mode == "text":
                self._write_line(progress_text(state))

    def _render_widget(self, state: RunProgress) -> None:
        self._bar.value = state.fraction
        self._label.value = progress_label_html(state)

    def _write_line(self, text: str, *, final: bool = False) -> None:
        pad = " " * max(0, self._last_line - len(text))
        self._last_line = len(text)
        sys.stdout.write("\r" + text + pad + ("\n" if final else ""))
        sys.stdout.flush()
