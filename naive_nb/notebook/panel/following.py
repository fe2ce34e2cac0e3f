"""Following the panel's runs: each from its start to its end, and what the panel shows of it.

A run is started by a callback on the shell thread (:meth:`RunFollower.start`), which hands it
to naive-nb's loop thread and returns. There the run goes on, its observer and the progress
clock write the progress line, and the cost is checked against the caps once more before
anything is sent. Its end (the tiles' thumbnails, the summary, the record's grid) is made on the
panel's worker. Whichever thread it is on, this writes widgets only under the panel's one lock,
and never an input control.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from naive_nb.notebook.panel import words
from naive_nb.notebook.panel.errors import PanelInputError
from naive_nb.notebook.panel.record import Record, RecordEntry
from naive_nb.notebook.panel.tiles import tiles_of

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.notebook.panel.pricing import CostPreview
    from naive_nb.notebook.panel.runs import PanelRun
    from naive_nb.notebook.panel.shared import PanelShared
    from naive_nb.run import RunProgress, Session

__all__ = ["TICK", "RunFollower"]

TICK = 0.5  # the progress clock moves this often between the run's own updates


class RunFollower:
    """The panel's runs as they go and end: the one going (:attr:`active`), the one whose grid
    is shown (:attr:`shown`, with the viewer open under it), and the record of each.

    ``runs`` is the panel's history (each run is added as it starts), ``record`` its record
    output, ``pricing`` the caps a run is held to.
    """

    def __init__(
        self, shared: PanelShared, runs: list[PanelRun], record: Record, pricing: CostPreview
    ) -> None:
        self._shared = shared
        self._runs = runs
        self._record = record
        self._pricing = pricing
        self.active: PanelRun | None = None  # the run going on, if any
        self.shown: PanelRun | None = None  # the run whose grid is shown

    @property
    def running(self) -> bool:
        """Whether a run of the panel is going."""
        return self.active is not None and self.active.running

    # -- from a callback (the shell thread) -----------------------------------------------------
    def start(self, run: PanelRun, session: Session) -> None:
        """Add ``run`` to the history, show it, and start it on the loop thread; returns at
        once."""
        shared = self._shared
        with shared.lock:
            self._runs.append(run)
            self.active = run
            shared.view.clear_errors()
            shared.view.list_runs(self._runs, select=run)
            self.show(run)
            shared.view.set_running(True, over_cap=False)
        shared.background.submit(self._launch(run, session))

    def cancel(self) -> None:
        """Stop the run going on, if any (its open jobs are cancelled on the server)."""
        run = self.active
        if run is None:
            return
        with self._shared.lock:  # said before the cancel is sent: the summary always comes after
            if not run.running:
                return
            run.cancel_asked = True  # no progress line over "cancelling…"
            self._shared.view.show_cancelling()
        run.cancel()

    def show(self, run: PanelRun) -> None:
        """``run``'s grid and its progress or summary line (the caller holds the lock)."""
        if self.shown is not run:
            self._shared.view.show_viewer(None)  # the viewer was of the last run's grid
        self.shown = run
        self._shared.view.show_run(run)
        self._render_progress(run)

    def open_viewer(self, index: int) -> None:
        """A tile's view button: the larger view of the shown run's image ``index``, under the
        grid."""
        from naive_nb.notebook.viewer import Viewer

        run = self.shown
        assert run is not None and run.outcome is not None
        position = sum(1 for tile in run.tiles[:index] if tile.viewable)
        viewer = Viewer(run.outcome, position, on_close=self._close_viewer)
        with self._shared.lock:
            self._shared.view.show_viewer(viewer)

    def _close_viewer(self) -> None:
        with self._shared.lock:
            self._shared.view.show_viewer(None)

    # -- the run (the loop thread) --------------------------------------------------------------
    async def _launch(self, run: PanelRun, session: Session) -> None:
        """Check the cost against the caps, start the run, wait for it, show it."""
        background = self._shared.background
        try:
            # what it would send and cost now (jobs the store holds are free); the prices were
            # asked for by the preview, the session keeps them
            quote = await background.in_worker(session.estimate, run.plan)
            refusal = self._pricing.refusal(quote, session)
            if refusal is not None:
                run.state, run.summary = "refused", refusal
            elif run.cancel_asked:
                run.state, run.summary = "cancelled", "Cancelled before anything was sent."
            else:
                run.state = "running"
                run.handle = session.start(
                    run.plan, lambda progress: self._progressed(run, progress)
                )
                if run.cancel_asked:  # Cancel came while it was being started
                    run.handle.cancel()
                background.loop.call_later(TICK, self._tick, run)
                run.outcome = await run.handle
        except (Exception, asyncio.CancelledError) as error:
            if isinstance(error, asyncio.CancelledError):
                run.state, run.summary = "cancelled", "Cancelled."
            else:
                run.error, run.state = error, "failed"
        await background.in_worker(self._finish, run)

    def _progressed(self, run: PanelRun, progress: RunProgress) -> None:
        """The run's observer (the run layer sends at most ~5 a second)."""
        run.progress, run.progress_at = progress, time.monotonic()
        self._render_progress(run)

    def _tick(self, run: PanelRun) -> None:
        """Move the clock between the run's updates (polls are paced by the estimate)."""
        if run.state == "running":
            self._render_progress(run)
            self._shared.background.loop.call_later(TICK, self._tick, run)

    def _render_progress(self, run: PanelRun) -> None:
        shared = self._shared
        with shared.lock:
            if shared.closed or run is not self.shown or run.state != "running":
                return
            if run.progress is not None:
                moved = time.monotonic() - run.progress_at
                state = replace(run.progress, elapsed=run.progress.elapsed + moved)
                shared.view.show_progress(state, cancelling=run.cancel_asked)

    # -- its end (the worker thread) ------------------------------------------------------------
    def _finish(self, run: PanelRun) -> None:
        """The run ended: its tiles and summary in the panel first, then its grid in the record
        (the slower part). Whatever fails here is reported, and the panel is ready for the next
        run all the same."""
        shared = self._shared
        try:
            try:
                self._conclude(run)
            except Exception as error:  # a file gone from the store, or a bug
                run.state, run.tiles = "failed", []
                run.summary = f"The run ended, but its results could not be shown: {error}"
                shared.sink.caught("results", error, words.problem)
            with shared.lock:
                if not shared.closed:
                    self._show_end(run)
            if run.error is not None:
                shared.sink.caught("run", run.error, words.problem)
            elif run.state == "refused":
                refused = PanelInputError("seeds", run.summary)
                shared.sink.report("run", refused, run.summary, "seeds")
            try:
                entry = self._record_entry(run)
                if entry is not None:
                    with shared.lock:
                        self._record.add(entry)
                        self._record.update()  # the display update, from this thread
            except Exception as error:
                shared.sink.caught("record", error, words.problem)
        finally:
            run.finished.set()
            if shared.closed:  # closed while the run went on: the worker's last task
                shared.background.shutdown()

    @staticmethod
    def _conclude(run: PanelRun) -> None:
        """The ended run's state, summary and tiles (thumbnails made here)."""
        from naive_nb.display.progress import summary_html, summary_text
        from naive_nb.notebook import notes

        outcome = run.outcome
        if outcome is not None:
            run.tiles = tiles_of(outcome, notes.failed_job)
            if outcome.interrupted is not None:
                run.state = "cancelled"
                images = sum(len(record.files) for record in outcome.records)
                run.summary = words.cancelled(outcome.interrupted, outcome.seconds, images)
            else:
                run.state = "done" if outcome.ok else "failed"
                summary = notes.summary(outcome)
                run.summary, run.summary_html = summary_text(summary), summary_html(summary)
        elif run.error is not None:
            worded = words.problem(run.error)
            run.summary = worded[1] if worded else f"{type(run.error).__name__}: {run.error}"

    @staticmethod
    def _record_entry(run: PanelRun) -> RecordEntry | None:
        """The run as the record keeps it: the magic's bundle of its result (None for a run
        refused before anything was sent)."""
        from naive_nb.display.result import NaiveResult
        from naive_nb.notebook import notes

        if run.state == "refused":
            return None
        outcome = run.outcome
        if outcome is None or not (outcome.records or outcome.failures):
            return RecordEntry(run.heading(), run.cell)
        result = NaiveResult(outcome, failure_text=notes.failed_job)
        data, metadata = result._repr_mimebundle_()
        return RecordEntry(run.heading(), run.cell, data, metadata)

    def _show_end(self, run: PanelRun) -> None:
        """The ended run in the panel (under the lock)."""
        view = self._shared.view
        if self.active is run:
            self.active = None
            view.set_running(False, self._pricing.over_cap())
        view.list_runs(self._runs)
        if run is self.shown:
            view.show_run(run)
