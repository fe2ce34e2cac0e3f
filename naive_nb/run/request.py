"""What a front end asks for, however it was typed: a :class:`Request` and its :class:`Axis`.

The magic's parser, the panel's widgets and ``naive_nb.compare()`` each build a ``Request``; the
core plans and runs it. A request is a value: two requests that ask for the same thing are equal
(so the magic's ``parse_line(to_line(r)).request == r``), and it says nothing of how it was typed.

What it leaves open is filled in when it is planned (:func:`naive_nb.run.plan.plan`): the model
(``None``: the settings' default), the defaults of the settings, and a seed (an empty ``seeds``:
one random seed, drawn and recorded then).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Axis", "Request"]


@dataclass(frozen=True)
class Axis:
    """One dimension of a sweep: the values one input key (``key``) takes, one job per value.

    ``name`` is what a grid calls the axis (``steps`` for ``num_inference_steps``); it defaults
    to the key. An axis whose values set several keys at once (a model and its steps, a prompt
    search/replace) has ``key=""`` and mappings of input keys as values: :meth:`settings` gives
    what one value sets either way.
    """

    key: str
    values: tuple[Any, ...]
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.key

    def settings(self, value: Any) -> dict[str, Any]:
        """The input keys (and values) that one value of this axis sets."""
        if not self.key and isinstance(value, Mapping):
            return dict(value)
        return {self.key: value}


@dataclass(frozen=True)
class Request:
    """A generation request: prompt, model, fixed input values, seeds, sweep axes, run options.

    ``params`` are input keys with one value each; ``seeds`` the seeds to run (empty: one random
    seed chosen when planned; several: a sweep, whose axis comes first); ``axes`` the other
    swept keys, in grid order (the first across, the second down). ``refresh`` runs again even
    when a stored result exists; ``cache_only`` never sends a request; ``timeout`` (seconds)
    overrides the settings' wait deadline.
    """

    prompt: str = ""
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()
    axes: tuple[Axis, ...] = ()
    refresh: bool = False
    cache_only: bool = False
    timeout: float | None = None
