"""The panel's widgets, and how each shows what the panel hands it.

:class:`PanelView` builds the widgets (prompt, model, the model's controls, seeds, Generate and
Cancel with the cost preview, progress, an error line, the grid, the viewer's place, the
history, the cell) and knows nothing of runs in flight or threads: the panel and its parts
(:mod:`naive_nb.notebook.panel.panel`) call it under the panel's one lock, from whichever
thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from naive_nb.notebook.panel.seeds import SeedsField
from naive_nb.notebook.panel.tiles import TileGrid
from naive_nb.notebook.panel.widgetset import WidgetSet

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import ModelInfo
    from naive_nb.notebook.panel.controls import ModelControls
    from naive_nb.notebook.panel.runs import PanelRun
    from naive_nb.notebook.viewer import Viewer
    from naive_nb.run import RunProgress

__all__ = ["PanelView"]

GREY = "#57606a"
RED = "#b21818"
AMBER = "#9a6700"
LABEL_WIDTH = {"description_width": "90px"}
CELL_NOTE = (
    f'<span style="color:{GREY}">The same request as a cell (select and copy it, or run '
    "<code>panel.insert_cell()</code>):</span>"
)


def coloured(text: str, colour: str = GREY) -> str:
    return f'<span style="color:{colour}">{html.escape(text)}</span>'


class PanelView:
    """Every widget of one panel; ``widget`` is the one shown."""

    def __init__(
        self,
        catalog: list[ModelInfo],
        model: str,
        prompt: str,
        seeds: str,
        on_seeds: Callable[[], None],
        on_view: Callable[[int], None],
        on_reuse: Callable[[int], None],
    ) -> None:
        import ipywidgets as widgets

        self.made = make = WidgetSet()
        self.prompt = make(
            widgets.Textarea,
            value=prompt,
            rows=3,
            placeholder="Describe the image…",
            description="Prompt",
            style=LABEL_WIDTH,
            layout=widgets.Layout(width="98%"),
        )
        self.prompt_error = self._error_line(make)
        self.model = make(
            widgets.Dropdown,
            options=[(f"{info.name} ({info.id})", info.id) for info in catalog],
            value=model,
            description="Model",
            style=LABEL_WIDTH,
            tooltip="The models endpoint's catalog; the controls below are this model's",
            layout=widgets.Layout(width="560px"),
        )
        self.model_error = self._error_line(make)
        self.controls_box = make(widgets.VBox, [])
        self.controls: ModelControls | None = None
        self.seeds = SeedsField(seeds, make, on_seeds)
        self.generate_button = make(
            widgets.Button,
            description="Generate",
            icon="play",
            button_style="primary",
            tooltip="Start the run; the kernel stays free while it runs",
        )
        self.cancel_button = make(
            widgets.Button,
            description="Cancel",
            icon="stop",
            disabled=True,
            tooltip="Stop the run: its open jobs are cancelled on the server",
        )
        self.cost = make(widgets.HTML, value="")
        self.bar = make(
            widgets.FloatProgress,
            value=0.0,
            min=0.0,
            max=1.0,
            bar_style="info",
            layout=widgets.Layout(width="240px", visibility="hidden"),
        )
        self.status = make(widgets.HTML, value="")
        self.error_line = self._error_line(make)
        self.grid = TileGrid(make, on_view, on_reuse)
        self.viewer_box = make(widgets.VBox, [])
        self.viewer: Viewer | None = None
        self.history = make(
            widgets.Select,
            options=[],
            rows=4,
            description="History",
            tooltip="This panel's runs; selecting one restores its controls and its grid",
            style=LABEL_WIDTH,
            layout=widgets.Layout(width="98%", display="none"),
        )
        self.listing = False  # the history's lines are being written: not a user's pick
        self.cell_view = make(widgets.HTML, value="")
        self.widget = make(
            widgets.VBox,
            [
                self.prompt,
                self.prompt_error,
                self.model,
                self.model_error,
                self.controls_box,
                self.seeds.box,
                make(widgets.HBox, [self.generate_button, self.cancel_button, self.cost]),
                make(widgets.HBox, [self.bar, self.status]),
                self.error_line,
                self.grid.box,
                self.viewer_box,
                self.history,
                make(widgets.HTML, value=CELL_NOTE),
                self.cell_view,
            ],
            layout=widgets.Layout(width="100%"),
        )

    @staticmethod
    def _error_line(make: WidgetSet) -> Any:
        import ipywidgets as widgets

        return make(widgets.HTML, value="", layout=widgets.Layout(display="none"))

    # -- the parts that change ------------------------------------------------------------------
    def set_controls(self, controls: ModelControls) -> None:
        """Show ``controls`` (a model's) in place of the last model's, which are closed."""
        old, self.controls = self.controls, controls
        self.controls_box.children = [controls.box]
        if old is not None:
            old.close()

    def show_viewer(self, viewer: Viewer | None) -> None:
        """Show ``viewer`` under the grid (None: none), closing the one shown before."""
        old, self.viewer = self.viewer, viewer
        self.viewer_box.children = [viewer.widget] if viewer is not None else []
        if old is not None:
            old.close()

    def show_cell(self, text: str) -> None:
        self.cell_view.value = (
            '<pre style="margin:0;padding:6px;background:#f6f8fa;white-space:pre-wrap;'
            f'user-select:text">{html.escape(text)}</pre>'
        )

    def show_cost(self, text: str, over_cap: bool = False) -> None:
        self.cost.value = coloured(text, RED if over_cap else GREY)

    def set_running(self, running: bool, over_cap: bool) -> None:
        """Generate while no run goes and the cost is within the cap; Cancel while one goes."""
        self.generate_button.disabled = running or over_cap
        self.cancel_button.disabled = not running

    def show_cancelling(self) -> None:
        self.cancel_button.disabled = True
        self.status.value = coloured("cancelling…")

    def show_progress(self, state: RunProgress, cancelling: bool) -> None:
        from naive_nb.display.progress import progress_label_html

        self.bar.value = state.fraction
        if not cancelling:  # "cancelling…" stays until the run's summary
            self.status.value = progress_label_html(state)

    def show_run(self, run: PanelRun) -> None:
        """``run``'s grid, and its summary line (or a running one's start)."""
        self.grid.show(run.tiles)
        self.bar.layout.visibility = "visible"
        if run.running:
            self.bar.value, self.bar.bar_style = 0.0, "info"
            self.status.value = coloured("starting…")
            return
        self.bar.value = 1.0
        self.bar.bar_style = {"done": "success", "cancelled": "warning"}.get(run.state, "danger")
        colour = {"done": GREY, "cancelled": AMBER}.get(run.state, RED)
        self.status.value = run.summary_html or coloured(run.summary, colour)

    def list_runs(self, runs: list[PanelRun], select: PanelRun | None = None) -> None:
        """The history's lines, newest first (and, given, the run selected)."""
        current = select.number if select is not None else self.history.value
        self.listing = True
        try:
            self.history.options = [(run.label(), run.number) for run in reversed(runs)]
            self.history.value = current
        finally:
            self.listing = False
        self.history.layout.display = None if runs else "none"

    # -- errors ---------------------------------------------------------------------------------
    def error_line_of(self, field: str | None) -> Any:
        """The error line under the control of ``field`` (the general one for the others)."""
        if field == "prompt":
            return self.prompt_error
        if field == "model":
            return self.model_error
        if field in ("seeds", "seed", "axes"):
            return self.seeds.error
        if self.controls is not None and field in self.controls.errors:
            return self.controls.errors[field]
        return self.error_line

    def show_error(self, field: str | None, message: str) -> None:
        line = self.error_line_of(field)
        line.value = coloured(message, RED)
        line.layout.display = None

    def clear_errors(self) -> None:
        lines = [self.prompt_error, self.model_error, self.seeds.error, self.error_line]
        if self.controls is not None:
            lines.extend(self.controls.errors.values())
        for line in lines:
            if line.value:
                line.value = ""
                line.layout.display = "none"

    def close(self) -> None:
        """Close every widget (the viewer's, the tiles', the controls' too)."""
        self.show_viewer(None)
        self.grid.close()
        if self.controls is not None:
            self.controls.close()
        self.made.close()
