"""The panel's input controls as a form: the model catalog and each model's controls, the
request they ask for, and the ``%naive`` cell that asks for it.

Everything here runs on the kernel's shell thread, in a callback (a typed value, a picked model
or run) or in the cell making the panel: the input controls are written only by the user and by
callbacks, never by background work. A change asks the cost preview (:mod:`.pricing`) for a
price; the preview itself comes later, from the loop thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naive_nb.notebook.panel import words
from naive_nb.notebook.panel.controls import ModelControls, specs_for

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import ModelInfo
    from naive_nb.notebook.panel.pricing import CostPreview
    from naive_nb.notebook.panel.runs import PanelRun
    from naive_nb.notebook.panel.shared import PanelShared
    from naive_nb.run import Request, Session

__all__ = ["RequestForm", "default_model", "load_catalog"]


def load_catalog(session: Session) -> tuple[list[ModelInfo], Exception | None]:
    """The session's model catalog, or the documented one and why the session's is missing
    (the panel shows that error; its controls still work)."""
    try:
        return session.models(), None
    except Exception as error:
        from naive_nb.client import DOCUMENTED_MODELS

        return list(DOCUMENTED_MODELS), error


def default_model(session: Session, catalog: list[ModelInfo]) -> str:
    """The settings' model if the catalog has it, else the catalog's default (else its first)."""
    wanted = session.settings.model
    if any(info.id == wanted for info in catalog):
        return wanted
    return next((info.id for info in catalog if info.default), catalog[0].id)


class RequestForm:
    """The controls read as a :class:`naive_nb.run.Request` (:attr:`request`, or None while
    they do not read) and the cell asking for it (:attr:`cell`, or None and
    :attr:`cell_problem`)."""

    def __init__(
        self, shared: PanelShared, catalog: dict[str, ModelInfo], pricing: CostPreview
    ) -> None:
        self._shared = shared
        self._catalog = catalog
        self._pricing = pricing
        self._restoring = False  # the controls are being set from a run: no cell, no price yet
        self.request: Request | None = None
        self.cell: str | None = None
        self.cell_problem = ""

    def read(self) -> Request:
        """The request the controls ask for now; raises the problem of a control that does not
        read (worded for the panel)."""
        from naive_nb.run import Request

        view = self._shared.view
        if view.seeds.problem is not None:
            raise view.seeds.problem
        assert view.controls is not None
        return Request(
            prompt=view.prompt.value.strip(),
            model=view.model.value,
            params=view.controls.params(),
            seeds=view.seeds.seeds,
        )

    def cell_of(self, request: Request) -> str:
        """The cell asking for ``request``, or why there is none (in parentheses)."""
        cell, problem = self._write_cell(request)
        return cell or f"({problem})"

    # -- callbacks ------------------------------------------------------------------------------
    def changed(self, change: Any = None) -> None:
        """A control changed: the cell text now, the price after a quiet moment."""
        shared = self._shared
        if self._restoring or shared.view.controls is None:
            return
        with shared.lock:
            shared.view.clear_errors()
        try:
            request = self.read()
        except Exception:
            self.request = self.cell = None
            self.cell_problem = "the controls have a problem (the red line says which)"
            with shared.lock:
                shared.view.show_cell(f"({self.cell_problem})")
            raise  # shown next to its control by the guard
        self.request = request
        self.cell, self.cell_problem = self._write_cell(request)
        with shared.lock:
            shared.view.show_cell(self.cell or f"({self.cell_problem})")
        self._pricing.ask(shared.session(), request)

    def model_changed(self, change: Any) -> None:
        """Another model picked: its controls, keeping the values both models take."""
        carry: dict[str, Any] = {}
        controls = self._shared.view.controls
        if controls is not None and not self._restoring:
            try:
                carry = controls.params()
            except Exception:  # a value that does not read (a bad colour) is not carried
                carry = {}
        self.build_controls(change["new"], carry)
        self.changed()

    def build_controls(self, model: str, carry: dict[str, Any]) -> None:
        """The controls of ``model``'s key_params, replacing the last model's; values of keys
        both take are kept."""
        shared = self._shared
        controls = ModelControls(specs_for(self._catalog[model], shared.session().settings))
        controls.restore({key: value for key, value in carry.items() if key in controls.specs})
        changed = shared.sink.guard("controls", self.changed, words.problem)
        for control in controls.inputs.values():
            control.observe(changed, names="value")
        with shared.lock:
            shared.view.set_controls(controls)

    def restore(self, run: PanelRun) -> None:
        """Set every control as ``run`` had it (then the cell and the price, once)."""
        view = self._shared.view
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
        self.changed()

    @staticmethod
    def _write_cell(request: Request) -> tuple[str | None, str]:
        """``(cell, "")``, or ``(None, why no cell asks for it)``."""
        from naive_nb.notebook.cells import CannotWrite, to_cell

        try:
            return to_cell(request), ""
        except CannotWrite as error:
            return None, f"no %naive cell asks for exactly this: {error}"
