"""The panel's record: an ordinary output below the widget that keeps every run's results.

The live widget is lost when the notebook is reopened (JupyterLab saves no widget state by
default), so each run's grid is also written, as the same bundle ``%naive`` shows
(:class:`naive_nb.display.result.NaiveResult`: the HTML grid, its text table and its
``{"naive": ...}`` provenance), into one output shown with the panel and updated by its display
id. Updating a display from the loop thread is a plain ``update_display_data`` message: it
reaches the output whatever cell runs at the time, and the front end saves what it shows, so a
saved notebook, nbconvert and GitHub show the runs without any widget state.

The newest run comes first; the grids of the :data:`GRIDS_KEPT` newest runs are kept whole, the
older ones as their heading (the cell that re-makes them and their job ids), so the output stays
within a notebook's budget however long the panel is used.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GRIDS_KEPT", "Record", "RecordEntry", "in_ipython"]

GRIDS_KEPT = 8
GREY = "#57606a"
EMPTY = "naive-nb panel: no run yet. The results of each run are kept here, in the saved notebook."


@dataclass(frozen=True)
class RecordEntry:
    """One run as the record shows it: a heading, and its result's bundle (if any image)."""

    heading: str
    cell: str
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


class Record:
    """The record output of one panel, addressed by its display id."""

    def __init__(self) -> None:
        self.display_id = f"naive-panel-{uuid.uuid4().hex}"
        self.entries: list[RecordEntry] = []

    def placeholder(self) -> dict[str, Any]:
        return {"text/plain": EMPTY, "text/html": f'<div style="color:{GREY}">{EMPTY}</div>'}

    def add(self, entry: RecordEntry) -> None:
        self.entries.append(entry)

    def bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(data, metadata)`` of the record: every run, newest first."""
        if not self.entries:
            return self.placeholder(), {}
        texts, parts = [], []
        newest_first = list(reversed(self.entries))
        for number, entry in enumerate(newest_first):
            whole = number < GRIDS_KEPT
            head = f"{entry.heading}\n{entry.cell}"
            texts.append(head + (f"\n{entry.data['text/plain']}" if whole and entry.data else ""))
            parts.append(_html(entry, whole))
        data = {"text/plain": "\n\n".join(texts), "text/html": "\n".join(parts)}
        runs = [entry.metadata.get("naive") for entry in self.entries if entry.metadata]
        metadata: dict[str, Any] = {"naive_panel": {"runs": runs}}
        if runs and runs[-1] is not None:  # the newest run, where %naive outputs keep theirs
            metadata["naive"] = runs[-1]
        return data, metadata

    def show(self) -> None:
        """Display the record's output (in the cell that displays the panel)."""
        from IPython.display import display

        if not in_ipython():
            return
        data, metadata = self.bundle()
        display(data, raw=True, metadata=metadata, display_id=self.display_id)  # type: ignore[no-untyped-call]

    def update(self) -> None:
        """Replace what the record's output shows (from any thread)."""
        from IPython.display import update_display

        if not in_ipython():  # plain Python: there is no output to update (nor to print to)
            return
        data, metadata = self.bundle()
        update_display(data, raw=True, metadata=metadata, display_id=self.display_id)  # type: ignore[no-untyped-call]


def in_ipython() -> bool:
    """Whether IPython runs (outside it, displays would only print)."""
    from IPython import get_ipython

    return get_ipython() is not None  # type: ignore[no-untyped-call]


def _html(entry: RecordEntry, whole: bool) -> str:
    heading = (
        f'<div style="color:{GREY};margin-top:8px">{html.escape(entry.heading)}</div>'
        f'<pre style="margin:2px 0 4px 0;white-space:pre-wrap">{html.escape(entry.cell)}</pre>'
    )
    if not whole or not entry.data:
        return f"<div>{heading}</div>"
    return f"<div>{heading}{entry.data.get('text/html', '')}</div>"
