"""``naive_nb.Panel()``: generate images by clicking, without ever blocking the kernel.

The panel is a front end of the same core as ``%naive``: its controls make a
:class:`naive_nb.run.Request`, the kernel's :class:`naive_nb.run.Session` plans it exactly as
the magic's would be planned, and a run of it is the same run (cache, journal, store).

Threads, and who writes what:

- a callback (a click, a typed value) runs where ipywidgets runs it: the kernel's shell thread,
  between cells. It reads the controls, checks them (the plan the magic makes: a refused
  request sends nothing) and hands the run to the background; it never waits for the network.
- the run, the progress clock and the debounced cost preview live on naive-nb's event-loop
  thread; prices, thumbnails and the record's images are made on the panel's worker thread
  (:mod:`naive_nb.notebook.panel.background`).
- background work only assigns widget values (comm messages, safe from any thread) and updates
  the record by its display id; it never prints, displays or enters an ``Output`` widget.
  Every widget write goes through one lock, so a progress update and a click never interleave.
- the input controls are written only by the user, or by a callback (restoring a run, reusing a
  seed): never by background work, which cannot race the front end's echo of what is typed.
  The one exception is the history, whose lines the worker rewrites (under the lock, keeping
  the line selected) when a run ends.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from naive_nb.notebook.panel import words
from naive_nb.notebook.panel.background import Background
from naive_nb.notebook.panel.controls import ModelControls, specs_for
from naive_nb.notebook.panel.errors import ErrorSink, PanelError, PanelInputError
from naive_nb.notebook.panel.record import Record, RecordEntry, in_ipython
from naive_nb.notebook.panel.runs import PanelRun
from naive_nb.notebook.panel.tiles import tiles_of
from naive_nb.notebook.panel.view import PanelView, coloured

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import ModelInfo
    from naive_nb.run import Quote, Request, RunProgress, Session

__all__ = ["DEBOUNCE", "Panel"]

DEBOUNCE = 0.3  # seconds of quiet after a change before the cost preview asks for a price
TICK = 0.5  # the progress clock moves this often between the run's own updates


class Panel:
    """The widget panel (see the module docstring); ``naive_nb.Panel()`` or ``%naive panel``.

    ``prompt``, ``model`` and ``seeds`` fill the controls to start with. ``max_credits`` is the
    most one run may cost; None: the settings' cap, as for ``%naive`` (``%config
    NaiveMagics.confirm_credits``; ``confirm_images`` caps the images too). Generate is disabled
    above a cap: the panel has no "run anyway". ``session`` defaults to the kernel's (the one
    ``%naive`` uses, with its ``%config NaiveMagics`` settings). ``panel.view`` holds
    the widgets (``panel.view.prompt.value = "..."`` sets the prompt as typing it would).
    """

    def __init__(
        self,
        prompt: str = "",
        *,
        model: str | None = None,
        seeds: str = "",
        max_credits: float | None = None,
        session: Session | None = None,
    ) -> None:
        from naive_nb.client import LoopThread

        self._given_session = session
        self.max_credits = max_credits
        self.runs: list[PanelRun] = []
        self.record = Record()
        self._display_id = f"{self.record.display_id}-widget"  # the panel's own output
        self.sink = ErrorSink(self._show_error)
        self._ui = threading.RLock()  # held for every widget write, from whichever thread
        self._closed = False
        self._restoring = False  # the controls are being set from a run: no cell, no price yet
        self._active: PanelRun | None = None  # the run going on, if any
        self._shown: PanelRun | None = None  # the run whose grid is shown
        self._request: Request | None = None
        self._cell: str | None = None
        self._cell_problem = ""
        self._quote: Quote | None = None
        self._quote_seq = 0
        session = self._session()
        if session.announce is None and in_ipython():  # no %load_ext: a grey line all the same
            from naive_nb.notebook.magics import show_notice

            session.announce = show_notice
        # the catalog now, in the cell: this is also when the embedded server may start, so its
        # one-line notice lands in this cell's output
        catalog, catalog_error = self._catalog(session)
        self.catalog: dict[str, ModelInfo] = {info.id: info for info in catalog}
        self._background = Background(LoopThread.get().loop)
        chosen = model if model in self.catalog else self._default_model(session, catalog)
        self.view = view = PanelView(
            catalog,
            chosen,
            prompt,
            seeds,
            on_seeds=self._guard("seeds", self._inputs_changed),
            on_view=self._guard("view", self._open_viewer),
            on_reuse=self._guard("reuse seed", self._reuse),
        )
        self.widget = view.widget
        self._build_controls(chosen, carry={})
        view.prompt.observe(self._guard("prompt", self._inputs_changed), names="value")
        view.model.observe(self._guard("model", self._model_changed), names="value")
        view.seeds.dice.on_click(self._guard("dice", lambda _: view.seeds.roll()))
        view.generate_button.on_click(self._guard("generate", lambda _: self.generate()))
        view.cancel_button.on_click(self._guard("cancel", lambda _: self.cancel()))
        view.history.observe(self._guard("history", self._history_picked), names="value")
        if catalog_error is not None:
            self.sink.caught("models", catalog_error, words.problem)
        self._guard("controls", self._inputs_changed)()

    # -- what a notebook user reaches for -------------------------------------------------------
    @property
    def errors(self) -> list[PanelError]:
        """Every error the panel met, in order (each also shown in the panel)."""
        return self.sink.errors

    @property
    def request(self) -> Request:
        """The request the controls ask for now (what Generate would plan and run)."""
        if self._request is None:
            return self._read_request()  # raises the problem shown in the panel
        return self._request

    @property
    def cell_text(self) -> str | None:
        """The ``%naive`` / ``%%naive`` cell that asks for :attr:`request`, or None when no
        cell can (the panel says why)."""
        return self._cell

    @property
    def quote(self) -> Quote | None:
        """The cost preview's last price of :attr:`request`."""
        return self._quote

    def insert_cell(self) -> None:
        """Put :attr:`cell_text` into a new cell below the one running this (call it in a cell:
        a button cannot insert a cell in JupyterLab, whose front end drops the request until
        the next execution)."""
        from IPython import get_ipython

        if self._cell is None:
            raise ValueError(f"No %naive cell asks for this request: {self._cell_problem}")
        shell = get_ipython()  # type: ignore[no-untyped-call]
        if shell is None:
            raise RuntimeError("insert_cell() needs IPython (a notebook cell).")
        shell.set_next_input(self._cell, replace=False)

    def generate(self) -> PanelRun:
        """What the Generate button does: read and check the controls, start the run in the
        background, and return at once."""
        if self._active is not None and self._active.running:
            raise RuntimeError("A run of this panel is still going; wait for it or cancel it.")
        request = self._read_request()
        session = self._session()
        plan = session.plan(request)  # refused here: nothing is sent
        run = PanelRun(len(self.runs) + 1, request, plan, self._cell_of(request))
        with self._ui:
            self.runs.append(run)
            self._active = run
            self.view.clear_errors()
            self.view.list_runs(self.runs, select=run)
            self._show_run(run)
            self.view.set_running(True, over_cap=False)
        self._background.submit(self._launch(run, session))
        if self.view.seeds.random:  # the next run draws new random seeds; the cell shows them
            self.view.seeds.resolve()
            self._inputs_changed()
        return run

    def cancel(self) -> None:
        """What the Cancel button does: stop the run; its open jobs are cancelled on the
        server (the run's result keeps what had finished)."""
        run = self._active
        if run is None:
            return
        with self._ui:  # said before the cancel is sent: the run's summary always comes after
            if not run.running:
                return
            run.cancel_asked = True  # no progress line over "cancelling…"
            self.view.show_cancelling()
        run.cancel()

    def restore(self, run: PanelRun) -> None:
        """Set every control as ``run`` had it, and show its grid (the history does this)."""
        view = self.view
        self._restoring = True
        try:
            view.prompt.value = run.request.prompt
            if view.model.value != run.plan.model:
                view.model.value = run.plan.model  # rebuilds the controls
            assert view.controls is not None
            view.controls.restore(run.request.params)
            view.seeds.set(run.seeds)
        finally:
            self._restoring = False
        self._inputs_changed()
        with self._ui:
            view.list_runs(self.runs, select=run)
            self._show_run(run)

    def close(self) -> None:
        """Close every widget of the panel, and put a line of text where it was shown (so a
        notebook saved afterwards shows that, not "model not found"). A run still going is not
        cancelled: it finishes on the server, into the store and the journal, and its grid
        still goes to the record."""
        with self._ui:
            if self._closed:
                return
            self._closed = True
            if in_ipython():
                from IPython.display import update_display

                text = words.closed(len(self.runs))
                bundle = {"text/plain": text, "text/html": f"<div>{coloured(text)}</div>"}
                update_display(bundle, raw=True, display_id=self._display_id)  # type: ignore[no-untyped-call]
            self._background.close()
            self.view.close()
        if self._active is None or not self._active.running:
            self._background.shutdown()

    # -- how a notebook shows it ----------------------------------------------------------------
    def _ipython_display_(self) -> None:
        """The live widget, with a readable ``text/plain``, and below it the record output."""
        from IPython.display import display

        data = dict(self.widget._repr_mimebundle_())
        data["text/plain"] = words.PANEL_TEXT
        display(data, raw=True, display_id=self._display_id)  # type: ignore[no-untyped-call]
        self.record.show()

    def __repr__(self) -> str:
        state = "running" if self._active is not None and self._active.running else "idle"
        runs = len(self.runs)
        return f"<naive-nb Panel: {self.view.model.value}, {runs} run{'s' * (runs != 1)}, {state}>"

    # -- reading the controls -----------------------------------------------------------------
    def _session(self) -> Session:
        if self._given_session is not None:
            return self._given_session
        from naive_nb.notebook import current

        return current.session()

    def _catalog(self, session: Session) -> tuple[list[ModelInfo], Exception | None]:
        try:
            return session.models(), None
        except Exception as error:  # shown in the panel; the documented catalog stands in
            from naive_nb.client import DOCUMENTED_MODELS

            return list(DOCUMENTED_MODELS), error

    @staticmethod
    def _default_model(session: Session, catalog: list[ModelInfo]) -> str:
        wanted = session.settings.model
        if any(info.id == wanted for info in catalog):
            return wanted
        return next((info.id for info in catalog if info.default), catalog[0].id)

    def _read_request(self) -> Request:
        from naive_nb.run import Request

        view = self.view
        if view.seeds.problem is not None:
            raise view.seeds.problem
        assert view.controls is not None
        return Request(
            prompt=view.prompt.value.strip(),
            model=view.model.value,
            params=view.controls.params(),
            seeds=view.seeds.seeds,
        )

    def _write_cell(self, request: Request) -> tuple[str | None, str]:
        """``(cell, "")``, or ``(None, why no cell asks for it)``."""
        from naive_nb.notebook.cells import CannotWrite, to_cell

        try:
            return to_cell(request), ""
        except CannotWrite as error:
            return None, f"no %naive cell asks for exactly this: {error}"

    def _cell_of(self, request: Request) -> str:
        cell, problem = self._write_cell(request)
        return cell or f"({problem})"

    # -- callbacks (the shell thread) ----------------------------------------------------------
    def _guard(self, where: str, callback: Any) -> Any:
        return self.sink.guard(where, callback, words.problem)

    def _inputs_changed(self, change: Any = None) -> None:
        """A control changed: the cell text now, the price after a quiet moment."""
        if self._restoring or self.view.controls is None:
            return
        with self._ui:
            self.view.clear_errors()
        try:
            request = self._read_request()
        except Exception:
            self._request = self._cell = None
            self._cell_problem = "the controls have a problem (the red line says which)"
            with self._ui:
                self.view.show_cell(f"({self._cell_problem})")
            raise  # shown next to its control by the guard
        self._request = request
        self._cell, self._cell_problem = self._write_cell(request)
        self._quote_seq += 1
        seq, session = self._quote_seq, self._session()
        with self._ui:
            self.view.show_cell(self._cell or f"({self._cell_problem})")
            self.view.show_cost("pricing…")
        self._background.later("quote", DEBOUNCE, lambda: self._preview(seq, session, request))

    def _model_changed(self, change: Any) -> None:
        carry: dict[str, Any] = {}
        controls = self.view.controls
        if controls is not None and not self._restoring:
            try:
                carry = controls.params()
            except Exception:  # a value that does not read (a bad colour) is not carried
                carry = {}
        self._build_controls(change["new"], carry)
        self._inputs_changed()

    def _build_controls(self, model: str, carry: dict[str, Any]) -> None:
        """The controls of ``model``'s key_params, replacing the last model's; values of keys
        both take are kept."""
        controls = ModelControls(specs_for(self.catalog[model], self._session().settings))
        controls.restore({key: value for key, value in carry.items() if key in controls.specs})
        for control in controls.inputs.values():
            control.observe(self._guard("controls", self._inputs_changed), names="value")
        with self._ui:
            self.view.set_controls(controls)

    def _history_picked(self, change: Any) -> None:
        with self._ui:  # after a listing under way elsewhere: its own changes are not picks
            if self.view.listing or change["new"] is None:
                return
        self.restore(self.runs[int(change["new"]) - 1])

    def _reuse(self, index: int) -> None:
        """A tile's reuse-seed button: that tile's seed into the seeds field."""
        assert self._shown is not None
        seed = self._shown.tiles[index].seed
        if seed is not None:
            self.view.seeds.set([seed])

    def _open_viewer(self, index: int) -> None:
        """A tile's view button: the larger view of that image, under the grid."""
        from naive_nb.notebook.viewer import Viewer

        run = self._shown
        assert run is not None and run.outcome is not None
        position = sum(1 for tile in run.tiles[:index] if tile.viewable)
        viewer = Viewer(run.outcome, position, on_close=self._close_viewer)
        with self._ui:
            self.view.show_viewer(viewer)

    def _close_viewer(self) -> None:
        with self._ui:
            self.view.show_viewer(None)

    @property
    def viewer(self) -> Any:
        """The viewer open under the grid, if any."""
        return self.view.viewer

    # -- background: the loop thread and the worker -----------------------------------------
    async def _preview(self, seq: int, session: Session, request: Request) -> None:
        """The debounced cost preview (on the loop thread; the price on the worker)."""
        try:
            quote = await self._background.in_worker(self._price_request, session, request)
        except Exception as error:
            if seq == self._quote_seq:
                with self._ui:
                    self.view.show_cost("no price")
                self.sink.caught("cost preview", error, words.problem)
            return
        if seq != self._quote_seq:
            return  # the inputs changed since: a newer preview is on its way
        with self._ui:
            self._quote = quote
            refusal = words.over_cap(quote, *self._caps(session))
            over = refusal is not None
            self.view.show_cost(refusal or words.cost_text(quote), over_cap=over)
            self.view.set_running(self._active is not None and self._active.running, over)

    def _price_request(self, session: Session, request: Request) -> Quote:
        return session.quote(request)

    def _caps(self, session: Session) -> tuple[float | None, int | None]:
        """The most credits and images one run may send (None: no cap)."""
        settings = session.settings
        credits = self.max_credits if self.max_credits is not None else settings.confirm_credits
        return credits, settings.confirm_images

    async def _launch(self, run: PanelRun, session: Session) -> None:
        """Check the cost against the cap, start the run, wait for it, show it (loop thread)."""
        try:
            # what it would send and cost now (jobs the store holds are free); the prices were
            # asked for by the preview, the session keeps them
            quote = await self._background.in_worker(session.estimate, run.plan)
            refusal = words.over_cap(quote, *self._caps(session))
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
                self._background.loop.call_later(TICK, self._tick, run)
                run.outcome = await run.handle
        except (Exception, asyncio.CancelledError) as error:
            if isinstance(error, asyncio.CancelledError):
                run.state, run.summary = "cancelled", "Cancelled."
            else:
                run.error, run.state = error, "failed"
        await self._background.in_worker(self._finish, run)

    def _progressed(self, run: PanelRun, progress: RunProgress) -> None:
        """The run's observer (loop thread; the run layer sends at most ~5 a second)."""
        run.progress, run.progress_at = progress, time.monotonic()
        self._render_progress(run)

    def _tick(self, run: PanelRun) -> None:
        """Move the clock between the run's updates (polls are paced by the estimate)."""
        if run.state == "running":
            self._render_progress(run)
            self._background.loop.call_later(TICK, self._tick, run)

    def _render_progress(self, run: PanelRun) -> None:
        with self._ui:
            if self._closed or run is not self._shown or run.state != "running":
                return
            if run.progress is not None:
                moved = time.monotonic() - run.progress_at
                state = replace(run.progress, elapsed=run.progress.elapsed + moved)
                self.view.show_progress(state, cancelling=run.cancel_asked)

    def _finish(self, run: PanelRun) -> None:
        """The run ended (worker thread): its tiles and summary in the panel first, then its
        grid in the record (the slower part). Whatever fails here is reported, and the panel
        is ready for the next run all the same."""
        try:
            try:
                self._conclude(run)
            except Exception as error:  # a file gone from the store, or a bug
                run.state, run.tiles = "failed", []
                run.summary = f"The run ended, but its results could not be shown: {error}"
                self.sink.caught("results", error, words.problem)
            with self._ui:
                if not self._closed:
                    self._show_end(run)
            if run.error is not None:
                self.sink.caught("run", run.error, words.problem)
            elif run.state == "refused":
                self.sink.report("run", PanelInputError("seeds", run.summary), run.summary, "seeds")
            try:
                entry = self._record_entry(run)
                if entry is not None:
                    with self._ui:
                        self.record.add(entry)
                        self.record.update()  # the display update, from this thread
            except Exception as error:
                self.sink.caught("record", error, words.problem)
        finally:
            run.finished.set()
            if self._closed:
                self._background.shutdown()

    def _conclude(self, run: PanelRun) -> None:
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

    def _record_entry(self, run: PanelRun) -> RecordEntry | None:
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

    # -- showing (under the lock) -----------------------------------------------------------
    def _show_end(self, run: PanelRun) -> None:
        """The ended run in the panel."""
        if self._active is run:
            self._active = None
            quote = self._quote
            over = quote is not None and words.over_cap(quote, *self._caps(self._session()))
            self.view.set_running(False, bool(over))
        self.view.list_runs(self.runs)
        if run is self._shown:
            self.view.show_run(run)

    def _show_run(self, run: PanelRun) -> None:
        """``run``'s grid and its progress or summary line."""
        if self._shown is not run:
            self.view.show_viewer(None)
        self._shown = run
        self.view.show_run(run)
        self._render_progress(run)

    def _show_error(self, error: PanelError) -> None:
        with self._ui:
            if not self._closed:
                self.view.show_error(error.field, error.message)
