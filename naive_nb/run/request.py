"""What a front end asks for, however it was typed: a :class:`Request` and its :class:`Axis`.

The magic's parser, the panel's widgets and ``naive_nb.compare()`` each build a ``Request``; the
core plans and runs it. A request is a value: two requests that ask for the same thing are equal
(so the magic's ``parse_line(to_line(r)).request == r``), it says nothing of how it was typed,
and it goes to JSON and back exactly (:meth:`Request.to_json`, :meth:`Request.from_json`), so a
saved grid or output can give back the sweep that made it.

What it leaves open is filled in when it is planned (:func:`naive_nb.run.plan.plan`): the model
(``None``: the settings' default), the defaults of the settings, and a seed (an empty ``seeds``:
one random seed, drawn and recorded then).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from naive_nb.run.values import show_number

__all__ = ["AXIS_KINDS", "KEY_NAMES", "Axis", "Request"]

#: what an axis varies (see :class:`Axis`)
AXIS_KINDS = ("param", "seed", "model", "prompt", "replace", "multi")
#: what a header calls an input key (the short names a sweep may use for them)
KEY_NAMES = {
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "image_size": "size",
    "num_images": "num",
    "negative_prompt": "negative",
    "output_format": "format",
    "enable_safety_checker": "safety",
}
#: a model id's provider prefix, left out of headers (``fal-ai/flux/dev`` reads ``flux/dev``)
_PROVIDER = "fal-ai/"


@dataclass(frozen=True)
class Axis:
    """One dimension of a sweep: one job per value (times the other axes' values).

    ``kind`` says what a value sets (:data:`AXIS_KINDS`):

    - ``param``: the input key ``key`` (``num_inference_steps``, ``image_size``, ...);
    - ``seed``: the seed (``key`` is ``seed``); ``model``: the model id (``key`` is ``model``);
    - ``prompt``: the whole prompt (``key`` is ``prompt``);
    - ``replace``: a prompt search/replace (``key`` is ``prompt``): each value replaces every
      occurrence of ``search`` in the prompt and the negative prompt, as AUTOMATIC1111's
      "Prompt S/R" does; a value equal to ``search`` keeps the prompt as written;
    - ``multi``: each value is a mapping of several keys at once (``key`` is ``""``), e.g.
      ``{"model": "fal-ai/flux/schnell", "num_inference_steps": 4}``.

    ``name`` is what headers call the axis (:attr:`label`); :meth:`show` gives a value's header.
    """

    key: str
    values: tuple[Any, ...]
    name: str = ""
    kind: str = ""
    search: str = ""

    def __post_init__(self) -> None:
        if not self.kind:  # the kind follows from the key when not given
            kind = {"seed": "seed", "model": "model", "prompt": "prompt", "": "multi"}
            object.__setattr__(self, "kind", kind.get(self.key, "param"))

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys (``model`` included) its values set, in the order the values list them."""
        if self.kind == "multi":
            found: dict[str, None] = {}
            for value in self.values:
                found.update(dict.fromkeys(value))
            return tuple(found)
        return (self.key,)

    def settings(self, value: Any) -> dict[str, Any]:
        """The keys (and values) that one value of this axis sets; ``model`` is the job's model.
        For ``replace`` the prompt it sets depends on the prompt: see :meth:`apply`."""
        if self.kind == "multi" and isinstance(value, Mapping):
            return dict(value)
        return {self.key: value}

    def apply(self, data: dict[str, Any], value: Any) -> None:
        """Set ``value`` in ``data`` (a job's input, plus its ``model``)."""
        if self.kind == "replace":
            for key in ("prompt", "negative_prompt"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].replace(self.search, value)
            return
        data.update(self.settings(value))

    def show(self, value: Any) -> str:
        """``value`` as its header reads: exact numbers (``3.5``, ``0.1``), model ids without
        the provider (``flux/dev``), sizes as ``768x512``; several keys joined."""
        if self.kind == "multi" and isinstance(value, Mapping):
            return ", ".join(_show_pair(key, item) for key, item in value.items())
        return show_value(self.key, value)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "values": list(self.values), "kind": self.kind}
        if self.name:
            data["name"] = self.name
        if self.search:
            data["search"] = self.search
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Axis:
        return cls(
            key=str(data["key"]),
            values=tuple(data["values"]),
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "")),
            search=str(data.get("search", "")),
        )


def show_value(key: str, value: Any) -> str:
    """One value of input ``key`` (or ``model``) as a header reads it."""
    if key == "model" and isinstance(value, str):
        return value.removeprefix(_PROVIDER)
    if isinstance(value, Mapping) and set(value) == {"width", "height"}:
        return f"{value['width']}x{value['height']}"
    if isinstance(value, (bool, int, float)):
        return show_number(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _show_pair(key: str, value: Any) -> str:
    if key == "model":
        return show_value(key, value)
    return f"{KEY_NAMES.get(key, key)} {show_value(key, value)}"


@dataclass(frozen=True)
class Request:
    """A generation request: prompt, model, fixed input values, seeds, sweep axes, run options.

    ``params`` are input keys with one value each; ``seeds`` the seeds to run (empty: one random
    seed chosen when planned; several: a sweep, whose axis comes first unless ``axes`` places a
    seed axis itself); ``axes`` the swept dimensions in layout order (X across, Y down, Z one
    grid per value, then one set of grids per value of each further axis). ``vary_seeds`` names
    axes along which the seed changes too (AUTOMATIC1111's "Vary seeds for X/Y/Z": the seed
    plus the value's index on each axis named, so e.g. each prompt gets its own seed).
    ``refresh`` runs again even when a stored result exists; ``cache_only`` never sends a
    request; ``timeout`` (seconds) overrides the settings' wait deadline.
    """

    prompt: str = ""
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()
    axes: tuple[Axis, ...] = ()
    refresh: bool = False
    cache_only: bool = False
    timeout: float | None = None
    vary_seeds: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The request as JSON-ready data; :meth:`from_json` gives back an equal request."""
        data: dict[str, Any] = {
            "prompt": self.prompt,
            "model": self.model,
            "params": dict(self.params),
            "seeds": list(self.seeds),
            "axes": [axis.to_json() for axis in self.axes],
        }
        if self.vary_seeds:
            data["vary_seeds"] = list(self.vary_seeds)
        if self.refresh:
            data["refresh"] = True
        if self.cache_only:
            data["cache_only"] = True
        if self.timeout is not None:
            data["timeout"] = self.timeout
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Request:
        timeout = data.get("timeout")
        return cls(
            prompt=str(data.get("prompt", "")),
            model=data.get("model"),
            params=dict(data.get("params", {})),
            seeds=tuple(int(seed) for seed in data.get("seeds", ())),
            axes=tuple(Axis.from_json(axis) for axis in data.get("axes", ())),
            refresh=bool(data.get("refresh", False)),
            cache_only=bool(data.get("cache_only", False)),
            timeout=None if timeout is None else float(timeout),
            vary_seeds=tuple(str(name) for name in data.get("vary_seeds", ())),
        )
