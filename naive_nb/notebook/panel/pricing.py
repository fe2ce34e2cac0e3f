"""The cost preview and the caps: what the request the controls ask for would cost, and whether
one run may cost that.

A change of the controls asks for a price only after a quiet moment (:data:`DEBOUNCE`): the
timer and the preview live on naive-nb's loop thread, the price itself is asked of the session
on the panel's worker (the sync client blocks). Only the newest preview is shown; one asked for
before the controls changed again is dropped. The caps are the panel's ``max_credits`` (else the
settings' ``confirm_credits``) and the settings' ``confirm_images``: Generate is disabled above
them, and a run is checked against them again before anything is sent (:mod:`.following`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from naive_nb.notebook.panel import words

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.notebook.panel.shared import PanelShared
    from naive_nb.run import Quote, Request, Session

__all__ = ["DEBOUNCE", "CostPreview"]

DEBOUNCE = 0.3  # seconds of quiet after a change before the cost preview asks for a price


class CostPreview:
    """The debounced price of the controls' request (:attr:`quote`), and the caps a run is held
    to. ``running`` tells whether a run of the panel is going (Generate stays disabled then)."""

    def __init__(
        self, shared: PanelShared, max_credits: float | None, running: Callable[[], bool]
    ) -> None:
        self._shared = shared
        self.max_credits = max_credits
        self._running = running
        self.quote: Quote | None = None  # the last price shown
        self._seq = 0  # the newest preview asked for: an older one's price is never shown

    def ask(self, session: Session, request: Request) -> None:
        """Price ``request`` once the controls have been quiet for a moment (a callback, on the
        shell thread: it only arms the timer)."""
        self._seq += 1
        seq, shared = self._seq, self._shared
        with shared.lock:
            shared.view.show_cost("pricing…")
        shared.background.later("quote", DEBOUNCE, lambda: self._preview(seq, session, request))

    def caps(self, session: Session) -> tuple[float | None, int | None]:
        """The most credits and images one run may send (None: no cap)."""
        settings = session.settings
        credits = self.max_credits if self.max_credits is not None else settings.confirm_credits
        return credits, settings.confirm_images

    def refusal(self, quote: Quote, session: Session) -> str | None:
        """Why a run priced at ``quote`` may not be sent (the cap it is over), or None."""
        return words.over_cap(quote, *self.caps(session))

    def over_cap(self) -> bool:
        """Whether the last price shown is over a cap (Generate stays disabled after a run)."""
        quote = self.quote
        return quote is not None and bool(self.refusal(quote, self._shared.session()))

    async def _preview(self, seq: int, session: Session, request: Request) -> None:
        """The debounced preview (on the loop thread; the price on the worker)."""
        shared = self._shared
        try:
            quote = await shared.background.in_worker(session.quote, request)
        except Exception as error:
            if seq == self._seq:
                with shared.lock:
                    shared.view.show_cost("no price")
                shared.sink.caught("cost preview", error, words.problem)
            return
        if seq != self._seq:
            return  # the inputs changed since: a newer preview is on its way
        with shared.lock:
            self.quote = quote
            refusal = self.refusal(quote, session)
            over = refusal is not None
            shared.view.show_cost(refusal or words.cost_text(quote), over_cap=over)
            shared.view.set_running(self._running(), over)
