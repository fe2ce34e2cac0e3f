"""Sweep axes from what a user names and lists: the one reading shared by every front end.

The magic's ``--vary NAME=VALUES`` and ``naive_nb.compare(vary={NAME: VALUES})`` name an axis
the same way and list its values in the same syntax (:mod:`naive_nb.run.values`); a Python list
gives the values themselves. Names:

- ``seed`` (``seeds``): seeds; ``-1`` or ``random`` is a random seed, made concrete now;
- ``model``: model ids;
- ``prompt``: whole prompts (a list of prompts, one per column);
- ``prompt:TERM``: search/replace in the prompt (AUTOMATIC1111's "Prompt S/R"). Written
  ``prompt:dusk,dawn,noon`` the first value is the search term and stays (the prompt as
  written), as in A1111; written ``prompt:dusk=dawn,noon`` (an ``a=b`` pair, then more
  replacements of the same term) the values are exactly the replacements listed;
- any input key (``num_inference_steps``, ``strength``, ``style``...) or its short name
  (``steps``, ``guidance`` or ``cfg``, ``size``, ``num``, ``negative``, ``format``);
- ``KEY+KEY=A+B,C+D``: several keys per value, e.g. ``model+steps=fal-ai/flux/schnell+4,
  fal-ai/flux/dev+28`` (FLUX Schnell takes 1-12 steps, Dev up to 50). In Python a list of
  tuples under ``"model+steps"``, or a list of dicts under any name.

Whether a model takes a key, and the range of each value, is the validator's to say, with the
model of each job: :func:`naive_nb.run.plan.plan` checks every value before anything is sent.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from naive_nb.run.params import parse_image_size, parse_param_value
from naive_nb.run.problems import SweepError
from naive_nb.run.request import Axis
from naive_nb.run.sweep import MAX_SWEEP, RANDOM_WORDS, check_numbers, check_seeds, random_seed
from naive_nb.run.values import Item, expand_numbers, is_range, split_items

__all__ = [
    "ALIASES",
    "INTEGER_KEYS",
    "NUMBER_KEYS",
    "axis_from_spec",
    "axis_from_values",
    "key_of",
    "sent_value",
]

#: short names of input keys (what ``--vary`` and ``vary=`` may call them)
ALIASES = {
    "seeds": "seed",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
    "cfg": "guidance_scale",
    "size": "image_size",
    "num": "num_images",
    "negative": "negative_prompt",
    "format": "output_format",
    "safety": "enable_safety_checker",
}
INTEGER_KEYS = ("seed", "num_images", "num_inference_steps")
NUMBER_KEYS = ("guidance_scale", "strength")
REPLACE = "prompt:"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def key_of(name: str) -> str:
    """The input key (or ``model``, ``seed``, ``prompt``) a name means."""
    cleaned = name.strip()
    return ALIASES.get(cleaned.lower(), cleaned)


def axis_from_spec(spec: str, *, pick_random: Callable[[], int] = random_seed) -> Axis:
    """The axis of one ``NAME=VALUES`` text (``--vary``), its values in the sweep syntax."""
    text = spec.strip()
    if text.lower().startswith(REPLACE):
        return _replace_axis(text[len(REPLACE) :], None)
    name, equals, values = text.partition("=")
    if not equals or not name.strip():
        raise SweepError(
            "no_name",
            "{name} takes NAME=VALUES, e.g. steps=1,4,8, model=ID,ID or prompt:dusk=dawn,noon; "
            "got {text!r}.",
            field="vary",
            text=spec,
            kind="axis",
        )
    name = name.strip()
    if "+" in name:
        return _multi_from_text(name, values)
    _check_name(name, spec)
    key = key_of(name)
    items = split_items(values, field=name, kind="axis")
    return _checked(
        Axis(key, tuple(_values(key, name, items, pick_random)), name, _kind(key)), name
    )


def axis_from_values(
    name: str | tuple[str, ...],
    values: Sequence[Any] | str,
    *,
    pick_random: Callable[[], int] = random_seed,
) -> Axis:
    """The axis of ``vary={name: values}``: a text is read in the sweep syntax, a list is taken
    as the values themselves (a text item of a number key may still be a range)."""
    if isinstance(name, tuple):
        name = "+".join(name)
    if isinstance(values, str):  # "prompt:dusk": "dawn,noon" lists the replacements
        return axis_from_spec(f"{name}={values}", pick_random=pick_random)
    listed = list(values)
    if not listed:
        raise SweepError("empty", "{name} has no values.", field=name, text="", kind="axis")
    if _is_replace(name):
        return _replace_axis(name[len(REPLACE) :], [str(v) for v in listed])
    if all(isinstance(v, Mapping) for v in listed):
        settings = [
            {key_of(k): sent_value(key_of(k), v) for k, v in item.items()} for item in listed
        ]
        return _checked(Axis("", tuple(settings), name, "multi"), name)
    if "+" in name:
        return _multi_from_values(name, listed)
    _check_name(name, name)
    key = key_of(name)
    items: list[Any] = []
    for value in listed:
        if isinstance(value, str) and key in (*INTEGER_KEYS, *NUMBER_KEYS, "seed"):
            items.extend(_values(key, name, [Item(value)], pick_random))
        else:
            items.append(_literal(key, name, value, pick_random))
    return _checked(Axis(key, tuple(items), name, _kind(key)), name)


def _is_replace(name: str) -> bool:
    return name.lower().startswith(REPLACE)


def _kind(key: str) -> str:
    return {"seed": "seed", "model": "model", "prompt": "prompt"}.get(key, "param")


def _check_name(name: str, spec: str) -> None:
    if not _NAME.match(name):
        raise SweepError(
            "bad_name",
            "{name}: {text!r} is not a parameter name (e.g. steps, guidance, model, seed, "
            "prompt, prompt:TERM, or an input key such as strength).",
            field="vary",
            text=name,
            kind="axis",
        )


def _values(key: str, name: str, items: list[Item], pick_random: Callable[[], int]) -> list[Any]:
    """The values ``items`` list for ``key`` (ranges expanded), none repeated."""
    text = ",".join(item.text for item in items)
    if key == "seed":
        seeds: list[int] = []
        for item in items:
            if not item.quoted and item.text.lower() in RANDOM_WORDS:
                seeds.append(pick_random())
                continue
            found = expand_numbers([item], field=name, kind="axis", integer=True, limit=MAX_SWEEP)
            seeds.extend(int(value) for value in found)
        return _too_many(check_seeds(seeds, text), name, text)
    if key in INTEGER_KEYS or key in NUMBER_KEYS:
        integer = key in INTEGER_KEYS
        numbers = expand_numbers(items, field=name, kind="axis", integer=integer, limit=MAX_SWEEP)
        return list(
            check_numbers(numbers, text, field=name, integer=integer, low=-math.inf, high=math.inf)
        )
    if key not in ("model", "prompt", "image_size") and _all_numbers(items):
        numbers = expand_numbers(items, field=name, kind="axis", integer=False, limit=MAX_SWEEP)
        integer = all(n == n.to_integral_value() for n in numbers)
        return list(
            check_numbers(numbers, text, field=name, integer=integer, low=-math.inf, high=math.inf)
        )
    values = [_text_value(key, item) for item in items]
    return _unique(_too_many(values, name, text), name, text)


def _all_numbers(items: list[Item]) -> bool:
    return all(not item.quoted and (is_range(item.text) or _is_number(item.text)) for item in items)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return text.strip().lstrip("+-").replace(".", "", 1).isdigit()


def _text_value(key: str, item: Item) -> Any:
    if item.quoted or key in ("model", "prompt"):
        return item.text
    if key == "image_size":
        return parse_image_size(item.text)
    return parse_param_value(item.text)


def _literal(key: str, name: str, value: Any, pick_random: Callable[[], int]) -> Any:
    """One value given in Python, as it is sent (numbers as the magic would send them)."""
    if key == "seed" and (value == -1 or (isinstance(value, str) and value in RANDOM_WORDS)):
        return pick_random()
    return sent_value(key, value)


def sent_value(key: str, value: Any) -> Any:
    """A value given in Python for ``key``, as it is sent (and as the magic would send it)."""
    if isinstance(value, bool):
        return value
    if key in INTEGER_KEYS and isinstance(value, (float, Decimal)) and value == int(value):
        return int(value)
    if key in NUMBER_KEYS and isinstance(value, (int, Decimal)):
        return float(value)  # 2 is sent as 2.0, as --guidance 2 sends it: one cache key
    if key == "image_size" and isinstance(value, str):
        return parse_image_size(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple):
        return json.loads(json.dumps(value))  # as JSON has it, so the request round-trips
    return value


def _multi_from_text(name: str, values: str) -> Axis:
    names = [part.strip() for part in name.split("+")]
    for part in names:
        _check_name(part, name)
    settings = []
    for item in split_items(values, field=name, kind="axis"):
        parts = _split_plus(item.text) if not item.quoted else [item.text]
        if len(parts) != len(names):
            raise SweepError(
                "multi_parts",
                "{name} item {text!r} has {got} part(s) separated by +; {name} needs {want} "
                "(one per name).",
                field=name,
                text=item.text,
                kind="axis",
                got=len(parts),
                want=len(names),
            )
        one = {}
        for part_name, part in zip(names, parts, strict=True):
            key = key_of(part_name)
            found = _values(key, part_name, [Item(part)], random_seed)
            if len(found) != 1:
                raise SweepError(
                    "multi_range",
                    "{name} item {text!r}: each part is one value, not a range.",
                    field=name,
                    text=item.text,
                    kind="axis",
                )
            one[key] = found[0]
        settings.append(one)
    return _checked(Axis("", tuple(settings), name, "multi"), name)


def _multi_from_values(name: str, listed: list[Any]) -> Axis:
    names = [part.strip() for part in name.split("+")]
    settings = []
    for value in listed:
        parts = list(value) if isinstance(value, (tuple, list)) else [value]
        if len(parts) != len(names):
            raise SweepError(
                "multi_parts",
                "{name} value {text!r} has {got} part(s); {name} needs {want} (one per name).",
                field=name,
                text=repr(value),
                kind="axis",
                got=len(parts),
                want=len(names),
            )
        settings.append(
            {key_of(n): sent_value(key_of(n), part) for n, part in zip(names, parts, strict=True)}
        )
    return _checked(Axis("", tuple(settings), name, "multi"), name)


def _split_plus(text: str) -> list[str]:
    """``a+b`` into its parts (a ``+`` inside brackets belongs to the part)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "+" and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _replace_axis(rest: str, listed: list[str] | None) -> Axis:
    """``prompt:TERM...``: the search term and the replacements (see the module)."""
    if listed is not None:
        search = rest.strip()
        values = listed
    else:
        items = split_items(rest, field="prompt:", kind="axis")
        head = items[0]
        if not head.quoted and "=" in head.text:
            search, _, first = head.text.partition("=")
            search = search.strip()
            values = [first.strip()]
            for item in items[1:]:
                term, equals, value = item.text.partition("=")
                if equals and not item.quoted and term.strip() == search:
                    values.append(value.strip())
                elif equals and not item.quoted:
                    raise SweepError(
                        "two_terms",
                        "{name}: one search term per axis; {text!r} searches another. Use a "
                        "second axis for it.",
                        field=f"{REPLACE}{search}",
                        text=item.text,
                        kind="axis",
                    )
                else:
                    values.append(item.text)
        else:
            search = head.text
            values = [item.text for item in items]  # A1111: the search term is the first value
    name = f"{REPLACE}{search}"
    if not search:
        raise SweepError(
            "no_search",
            "{name} needs a search term, e.g. prompt:dusk=dawn,noon.",
            field="prompt:",
            text=rest,
            kind="axis",
        )
    return _checked(Axis("prompt", tuple(values), name, "replace", search), name)


def _checked(axis: Axis, name: str) -> Axis:
    text = ", ".join(axis.show(value) for value in axis.values)
    _too_many(list(axis.values), name, text)
    _unique(list(axis.values), name, text)
    return axis


def _too_many(values: list[Any], name: str, text: str) -> list[Any]:
    if len(values) > MAX_SWEEP:
        raise SweepError(
            "too_many",
            "{name} makes more than {limit} values; narrow it.",
            field=name,
            text=text,
            kind="axis",
            limit=MAX_SWEEP,
        )
    return values


def _unique(values: list[Any], name: str, text: str) -> list[Any]:
    seen: set[str] = set()
    for value in values:
        key = json.dumps(value, sort_keys=True)
        if key in seen:
            raise SweepError(
                "repeated",
                "{name} {text!r} repeats a value: it would be paid twice.",
                field=name,
                text=text,
                kind="axis",
            )
        seen.add(key)
    return values
