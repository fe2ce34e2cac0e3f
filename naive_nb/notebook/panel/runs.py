"""One run of the panel (:class:`PanelRun`) and the panel's history of them.

A run keeps what it was asked (the request, with its concrete seeds, and the controls' raw
state), how it went (progress, outcome, error) and its tiles, so selecting it in the history
restores every control and shows its own grid; a new run never overwrites an earlier one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.notebook.panel.tiles import TileData
    from naive_nb.run import Outcome, Plan, Request, RunHandle, RunProgress

__all__ = ["PanelRun"]

STATES = ("pricing", "running", "done", "failed", "cancelled", "refused")


@dataclass(eq=False)
class PanelRun:
    """A run of the panel, numbered from 1. ``state`` is one of :data:`STATES`."""

    number: int
    request: Request
    plan: Plan
    cell: str
    started: float = field(default_factory=time.time)
    state: str = "pricing"
    progress: RunProgress | None = None
    progress_at: float = 0.0  # time.monotonic() when ``progress`` came
    outcome: Outcome | None = None
    error: BaseException | None = None
    summary: str = ""
    summary_html: str = ""
    tiles: list[TileData] = field(default_factory=list)
    handle: RunHandle[Outcome] | None = None
    cancel_asked: bool = False
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def seeds(self) -> tuple[int, ...]:
        """The concrete seeds the run asked for (a seed drawn while planning included)."""
        seeds = [job.seed for job in self.plan.jobs if job.seed is not None]
        return tuple(dict.fromkeys(seeds))

    @property
    def running(self) -> bool:
        return self.state in ("pricing", "running")

    def cancel(self) -> None:
        """Stop the run (its open jobs are cancelled on the server); from any thread."""
        self.cancel_asked = True
        if self.handle is not None:
            self.handle.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended and its grid and record are written (True), or until
        ``timeout`` seconds have passed (False). For scripts and tests; the panel never waits."""
        return self.finished.wait(timeout)

    def label(self) -> str:
        """The run as the history lists it."""
        clock = time.strftime("%H:%M:%S", time.localtime(self.started))
        prompt = self.request.prompt.replace("\n", " ")
        prompt = prompt if len(prompt) <= 32 else prompt[:31] + "…"
        seeds = self.seeds
        shown = ", ".join(str(s) for s in seeds[:4]) + (", …" if len(seeds) > 4 else "")
        return f"#{self.number} {clock} · {prompt} · seeds {shown or '-'} · {self._state_word()}"

    def _state_word(self) -> str:
        if self.state == "done" and self.outcome is not None:
            images = sum(len(record.files) for record in self.outcome.records)
            return f"✓ {images} image{'s' if images != 1 else ''}"
        return {
            "pricing": "starting",
            "running": "running",
            "failed": "✗ failed",
            "cancelled": "cancelled",
            "refused": "not run",
        }.get(self.state, self.state)

    def heading(self) -> str:
        """The run's heading in the record."""
        clock = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"naive-nb panel, run {self.number} ({clock}): {self.summary or self.state}"

    def controls(self) -> dict[str, Any]:
        """What restoring this run sets: prompt, model, params and seeds."""
        return {
            "prompt": self.request.prompt,
            "model": self.plan.model,
            "params": dict(self.request.params),
            "seeds": self.seeds,
        }
