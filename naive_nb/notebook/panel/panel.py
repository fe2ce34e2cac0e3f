"""``naive_nb.Panel()``: generate images by clicking, without ever blocking the kernel.

The panel is a front end of the same core as ``%naive``: its controls make a
:class:`naive_nb.run.Request`, the kernel's :class:`naive_nb.run.Session` plans it exactly as
the magic's would be planned, and a run of it is the same run (cache, journal, store).

:class:`Panel` is the public surface, and wires its parts: the input controls read as a request
and a cell (:mod:`.form`), the cost preview and the caps (:mod:`.pricing`), and the runs as they
go and end (:mod:`.following`). They share the widgets and the one lock (:mod:`.shared`).

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

from typing import TYPE_CHECKING, Any

from naive_nb.notebook.panel import words
from naive_nb.notebook.panel.background import Background
from naive_nb.notebook.panel.errors import ErrorSink, PanelError
from naive_nb.notebook.panel.following import RunFollower
from naive_nb.notebook.panel.form import RequestForm, default_model, load_catalog
from naive_nb.notebook.panel.pricing import DEBOUNCE, CostPreview
from naive_nb.notebook.panel.record import Record, in_ipython
from naive_nb.notebook.panel.runs import PanelRun
from naive_nb.notebook.panel.shared import PanelShared
from naive_nb.notebook.panel.view import PanelView, coloured

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import ModelInfo
    from naive_nb.run import Quote, Request, Session

__all__ = ["DEBOUNCE", "Panel"]


class Panel:
    """The widget panel (see the module docstring); ``naive_nb.Panel()`` or ``%naive panel``.

    ``prompt``, ``model`` and ``seeds`` fill the controls to start with. ``max_credits`` is the
    most one run may cost; None: the settings' cap, as for ``%naive`` (``%config
    NaiveMagics.confirm_credits``; ``confirm_images`` caps the images too). Generate is disabled
    above a cap: the panel has no "run anyway". ``session`` defaults to the kernel's (the one
    ``%naive`` uses, with its ``%config NaiveMagics`` settings). ``panel.view`` holds
    the widgets (``panel.view.prompt.value = "..."`` sets the prompt as typing it would).
    """

    # made after the widgets, whose callbacks reach them (only once the panel is made)
    _form: RequestForm
    _follower: RunFollower

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
        self.runs: list[PanelRun] = []
        self.record = Record()
        self._display_id = f"{self.record.display_id}-widget"  # the panel's own output
        self.sink = ErrorSink(self._show_error)
        session = self._session()
        if session.announce is None and in_ipython():  # no %load_ext: a grey line all the same
            from naive_nb.notebook.magics import show_notice

            session.announce = show_notice
        # the catalog now, in the cell: this is also when the embedded server may start, so its
        # one-line notice lands in this cell's output
        catalog, catalog_error = load_catalog(session)
        self.catalog: dict[str, ModelInfo] = {info.id: info for info in catalog}
        background = Background(LoopThread.get().loop)
        chosen = model if model in self.catalog else default_model(session, catalog)
        guard = self._guard
        self.view = view = PanelView(
            catalog,
            chosen,
            prompt,
            seeds,
            on_seeds=guard("seeds", lambda: self._form.changed()),
            on_view=guard("view", lambda index: self._follower.open_viewer(index)),
            on_reuse=guard("reuse seed", self._reuse),
        )
        self.widget = view.widget
        self._shared = shared = PanelShared(view, background, self.sink, self._session)
        self._pricing = CostPreview(shared, max_credits, running=lambda: self._follower.running)
        self._follower = RunFollower(shared, self.runs, self.record, self._pricing)
        self._form = form = RequestForm(shared, self.catalog, self._pricing)
        form.build_controls(chosen, carry={})
        view.prompt.observe(guard("prompt", form.changed), names="value")
        view.model.observe(guard("model", form.model_changed), names="value")
        view.seeds.dice.on_click(guard("dice", lambda _: view.seeds.roll()))
        view.generate_button.on_click(guard("generate", lambda _: self.generate()))
        view.cancel_button.on_click(guard("cancel", lambda _: self.cancel()))
        view.history.observe(guard("history", self._history_picked), names="value")
        if catalog_error is not None:
            self.sink.caught("models", catalog_error, words.problem)
        guard("controls", form.changed)()

    # -- what a notebook user reaches for -------------------------------------------------------
    @property
    def errors(self) -> list[PanelError]:
        """Every error the panel met, in order (each also shown in the panel)."""
        return self.sink.errors

    @property
    def request(self) -> Request:
        """The request the controls ask for now (what Generate would plan and run)."""
        if self._form.request is None:
            return self._form.read()  # raises the problem shown in the panel
        return self._form.request

    @property
    def cell_text(self) -> str | None:
        """The ``%naive`` / ``%%naive`` cell that asks for :attr:`request`, or None when no
        cell can (the panel says why)."""
        return self._form.cell

    @property
    def quote(self) -> Quote | None:
        """The cost preview's last price of :attr:`request`."""
        return self._pricing.quote

    @property
    def max_credits(self) -> float | None:
        """The most one run may cost (None: the settings' cap)."""
        return self._pricing.max_credits

    @max_credits.setter
    def max_credits(self, credits: float | None) -> None:
        self._pricing.max_credits = credits

    @property
    def viewer(self) -> Any:
        """The viewer open under the grid, if any."""
        return self.view.viewer

    def insert_cell(self) -> None:
        """Put :attr:`cell_text` into a new cell below the one running this (call it in a cell:
        a button cannot insert a cell in JupyterLab, whose front end drops the request until
        the next execution)."""
        from IPython import get_ipython

        if self._form.cell is None:
            raise ValueError(f"No %naive cell asks for this request: {self._form.cell_problem}")
        shell = get_ipython()  # type: ignore[no-untyped-call]
        if shell is None:
            raise RuntimeError("insert_cell() needs IPython (a notebook cell).")
        shell.set_next_input(self._form.cell, replace=False)

    def generate(self) -> PanelRun:
        """What the Generate button does: read and check the controls, start the run in the
        background, and return at once."""
        if self._follower.running:
            raise RuntimeError("A run of this panel is still going; wait for it or cancel it.")
        request = self._form.read()
        session = self._session()
        plan = session.plan(request)  # refused here: nothing is sent
        run = PanelRun(len(self.runs) + 1, request, plan, self._form.cell_of(request))
        self._follower.start(run, session)
        if self.view.seeds.random:  # the next run draws new random seeds; the cell shows them
            self.view.seeds.resolve()
            self._form.changed()
        return run

    def cancel(self) -> None:
        """What the Cancel button does: stop the run; its open jobs are cancelled on the
        server (the run's result keeps what had finished)."""
        self._follower.cancel()

    def restore(self, run: PanelRun) -> None:
        """Set every control as ``run`` had it, and show its grid (the history does this)."""
        self._form.restore(run)
        with self._shared.lock:
            self.view.list_runs(self.runs, select=run)
            self._follower.show(run)

    def close(self) -> None:
        """Close every widget of the panel, and put a line of text where it was shown (so a
        notebook saved afterwards shows that, not "model not found"). A run still going is not
        cancelled: it finishes on the server, into the store and the journal, and its grid
        still goes to the record."""
        shared = self._shared
        with shared.lock:
            if shared.closed:
                return
            shared.closed = True
            if in_ipython():
                from IPython.display import update_display

                text = words.closed(len(self.runs))
                bundle = {"text/plain": text, "text/html": f"<div>{coloured(text)}</div>"}
                update_display(bundle, raw=True, display_id=self._display_id)  # type: ignore[no-untyped-call]
            shared.background.close()
            self.view.close()
        if not self._follower.running:  # else the run's end shuts the worker down
            shared.background.shutdown()

    # -- how a notebook shows it ----------------------------------------------------------------
    def _ipython_display_(self) -> None:
        """The live widget, with a readable ``text/plain``, and below it the record output."""
        from IPython.display import display

        data = dict(self.widget._repr_mimebundle_())
        data["text/plain"] = words.PANEL_TEXT
        display(data, raw=True, display_id=self._display_id)  # type: ignore[no-untyped-call]
        self.record.show()

    def __repr__(self) -> str:
        state = "running" if self._follower.running else "idle"
        runs = len(self.runs)
        return f"<naive-nb Panel: {self.view.model.value}, {runs} run{'s' * (runs != 1)}, {state}>"

    # -- wiring ---------------------------------------------------------------------------------
    def _session(self) -> Session:
        if self._given_session is not None:
            return self._given_session
        from naive_nb.notebook import current

        return current.session()

    def _guard(self, where: str, callback: Any) -> Any:
        return self.sink.guard(where, callback, words.problem)

    def _history_picked(self, change: Any) -> None:
        with self._shared.lock:  # after a listing under way elsewhere: its changes are not picks
            if self.view.listing or change["new"] is None:
                return
        self.restore(self.runs[int(change["new"]) - 1])

    def _reuse(self, index: int) -> None:
        """A tile's reuse-seed button: that tile's seed into the seeds field."""
        shown = self._follower.shown
        assert shown is not None
        seed = shown.tiles[index].seed
        if seed is not None:
            self.view.seeds.set([seed])

    def _show_error(self, error: PanelError) -> None:
        with self._shared.lock:
            if not self._shared.closed:
                self.view.show_error(error.field, error.message)
