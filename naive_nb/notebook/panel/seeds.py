"""The seeds field: ``1-4, 9`` as the magic's ``--seeds`` reads it, a dice button, and the seeds
it resolves to.

Random seeds (``-1`` or ``random``) are drawn when the text changes and after each run, not at
each reading, so the ``%%naive`` cell the panel shows and the next run ask for the same seeds;
each run records the concrete seeds it used (AUTOMATIC1111's habit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from naive_nb.notebook.panel.words import seeds_text

__all__ = ["SeedsField"]


class SeedsField:
    """The seeds text, its resolved seeds (or the error reading it), and the dice."""

    def __init__(self, text: str, make: Any, on_change: Callable[[], None]) -> None:
        import ipywidgets as widgets

        self._on_change = on_change
        self.text = make(
            widgets.Text,
            value=text,
            description="Seeds",
            placeholder="empty: one random seed",
            tooltip=(
                "Seeds (seed): e.g. 42, 1-4, 1,5,9, 1-10 (+2), 1-10 [5]; -1 or random for a "
                "random seed; one job per seed. Left empty, one random seed is drawn."
            ),
            continuous_update=False,
            style={"description_width": "90px"},
            layout=widgets.Layout(width="330px"),
        )
        self.dice = make(
            widgets.Button,
            description="",
            icon="dice",
            tooltip="New random seeds (as many as the field lists)",
            layout=widgets.Layout(width="40px"),
        )
        self.error = make(widgets.HTML, value="", layout=widgets.Layout(display="none"))
        self.box = make(widgets.VBox, [make(widgets.HBox, [self.text, self.dice]), self.error])
        self.seeds: tuple[int, ...] = ()
        self.problem: Exception | None = None
        self.resolve()
        self.text.observe(lambda change: self._changed(), names="value")

    def _changed(self) -> None:
        self.resolve()
        self._on_change()

    def resolve(self) -> None:
        """Read the text again (drawing new random seeds where it asks for them)."""
        from naive_nb.run import SweepError
        from naive_nb.run.sweep import parse_seed_values

        text = self.text.value.strip()
        try:
            self.seeds = tuple(parse_seed_values(text)) if text else ()
            self.problem = None
        except SweepError as error:
            self.seeds, self.problem = (), error

    @property
    def random(self) -> bool:
        """Whether the text asks for random seeds (drawn again after each run)."""
        from naive_nb.run.sweep import RANDOM_WORDS

        words = self.text.value.replace(",", " ").lower().split()
        return any(word in RANDOM_WORDS for word in words)

    def roll(self) -> None:
        """The dice: as many fresh random seeds as the field lists now (one when empty)."""
        from naive_nb.run.sweep import random_seed

        count = max(1, len(self.seeds))
        self.text.value = seeds_text([random_seed() for _ in range(count)])

    def set(self, seeds: tuple[int, ...] | list[int]) -> None:
        self.text.value = seeds_text(seeds)
