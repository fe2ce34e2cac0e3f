"""The inverse of the parser: a :class:`Request` written as a ``%naive`` line (the panel's "copy
as cell"), such that ``parse_line(to_line(r)).request == r``.

Each value is written with the flag that means it when that flag reads it back exactly, else
with ``-p KEY=VALUE``; every line is checked by parsing it before it is returned, so a request
that no line can express (a model axis, a prompt no quoting keeps whole) is refused with
:class:`CannotWrite` rather than written as something else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from naive_nb.notebook.args import AXIS_NAMES, MagicUsageError, parse_line
from naive_nb.run.axes import key_of
from naive_nb.run.request import Axis, Request
from naive_nb.run.values import is_range, show_number

__all__ = ["CannotWrite", "to_cell", "to_line"]

# the flag that reads a value back as the same input key
_FLAGS = {
    "num_images": "--num",
    "image_size": "--size",
    "num_inference_steps": "--steps",
    "guidance_scale": "--guidance",
    "output_format": "--format",
    "negative_prompt": "--negative",
}
_AXIS_FLAGS = {"num_inference_steps": "--steps", "guidance_scale": "--guidance"}


class CannotWrite(ValueError):
    """A request no ``%naive`` line asks for exactly (the message says which part)."""


def _quoted(text: str) -> str:
    """``text`` in double quotes, as the parser reads them back."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reads_back(line: str, check: Callable[[Request], bool]) -> bool:
    try:
        return check(parse_line(line).request)
    except MagicUsageError:
        return False


def _param(key: str, value: Any) -> str:
    """One input value as the flag that means it, else as ``-p``."""
    flag = _FLAGS.get(key)
    candidates = []
    if flag is not None:
        if key == "image_size" and isinstance(value, dict) and set(value) == {"width", "height"}:
            candidates.append(f"{flag}={value['width']}x{value['height']}")
        elif isinstance(value, str):
            candidates.append(f"{flag}={_quoted(value)}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            candidates.append(f"{flag}={value!r}")
    if key == "enable_safety_checker" and value is False:
        candidates.append("--no-safety")
    raw = value if isinstance(value, str) and _stays_text(value) else json.dumps(value)
    candidates.append(f"-p {_quoted(f'{key}={raw}')}")
    for candidate in candidates:
        if _reads_back(f"x {candidate}", lambda r: r.params == {key: value}):
            return candidate
    raise CannotWrite(f"no %naive flag writes {key}={value!r}")


def _stays_text(value: str) -> bool:
    from naive_nb.run.params import parse_param_value

    return bool(value) and parse_param_value(value) == value


def _number(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _axes(axes: tuple[Axis, ...]) -> list[str]:
    """The axes as flags: ``--steps`` and ``--guidance`` for those the parser puts first (in
    that order), ``--vary NAME=VALUES`` for the rest, in order."""
    parts = []
    flags = list(_AXIS_FLAGS)
    for n, axis in enumerate(axes):
        flag = _AXIS_FLAGS.get(axis.key)
        as_flag = (
            flag is not None
            and axis.kind == "param"
            and axis.label == AXIS_NAMES[axis.key]
            and len(axis.values) >= 2
            and all(a.key in flags[: flags.index(axis.key)] for a in axes[:n])
        )
        if as_flag:
            parts.append(f"{flag}={','.join(_number(value) for value in axis.values)}")
        else:
            parts.append(f"--vary={_quoted(_vary(axis))}")
    return parts


def _vary(axis: Axis) -> str:
    """One axis as ``--vary`` reads it (checked when the whole line is read back)."""
    if axis.kind == "replace":
        return f"prompt:{axis.search}=" + ",".join(_csv_item(v) for v in axis.values)
    if axis.kind == "multi":
        keys = axis.keys
        if [key_of(name) for name in axis.label.split("+")] != list(keys) or not all(
            list(value) == list(keys) for value in axis.values
        ):
            raise CannotWrite(f"no %naive flag sweeps the axis {axis.label!r} as asked")
        return f"{axis.label}=" + ",".join(
            "+".join(_csv_item(value[key], key) for key in keys) for value in axis.values
        )
    return f"{axis.label}=" + ",".join(_csv_item(value, axis.key) for value in axis.values)


def _csv_item(value: Any, key: str = "prompt") -> str:
    """A value as one item of a list (quoted when a bare item would read otherwise)."""
    if isinstance(value, dict) and key == "image_size" and set(value) == {"width", "height"}:
        return f"{value['width']}x{value['height']}"
    if isinstance(value, (bool, int, float)):
        return show_number(value)
    if not isinstance(value, str):
        raise CannotWrite(f"no %naive flag writes {key}={value!r} in a sweep")
    reads_as_text = key in ("model", "prompt") or _stays_text(value)
    plain = value and value == value.strip() and not any(c in value for c in ',"\\+()[]=')
    if plain and reads_as_text and not is_range(value) and value.lower() not in ("-1", "random"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _options(request: Request) -> list[str]:
    parts = []
    if request.model is not None:
        parts.append(f"--model={_quoted(request.model)}")
    if len(request.seeds) == 1:
        parts.append(f"--seed={request.seeds[0]}")
    elif request.seeds:
        parts.append(f"--seeds={','.join(str(seed) for seed in request.seeds)}")
    parts.extend(_param(key, value) for key, value in request.params.items())
    parts.extend(_axes(request.axes))
    if request.vary_seeds:
        parts.append(f"--vary-seeds={_quoted(','.join(request.vary_seeds))}")
    if request.refresh:
        parts.append("--refresh")
    if request.cache_only:
        parts.append("--cache-only")
    if request.timeout is not None:
        parts.append(f"--timeout={request.timeout!r}")
    return parts


def to_line(request: Request) -> str:
    """The text after ``%naive`` that asks for ``request``; :class:`CannotWrite` if none does
    (a prompt of several lines needs a cell: :func:`to_cell`)."""
    prompt = request.prompt
    if "\n" in prompt or "\r" in prompt:  # a line magic is one line
        raise CannotWrite("a prompt of several lines needs a %%naive cell")
    options = " ".join(_options(request))
    forms = [prompt, _quoted(prompt), f"--prompt={_quoted(prompt)}"] if prompt else [""]
    for form in forms:
        line = f"{form} {options}".strip()
        if _reads_back(line, lambda parsed: parsed == request):
            return line
    raise CannotWrite("no %naive line keeps this prompt whole")


def to_cell(request: Request) -> str:
    """``request`` as a cell to paste: ``%naive ...``, or ``%%naive ...`` with the prompt as the
    cell body when it has several lines."""
    try:
        return f"%naive {to_line(request)}"
    except CannotWrite:
        if "\n" not in request.prompt:
            raise
    options = " ".join(_options(request))
    try:
        parsed = parse_line(options, request.prompt).request
    except MagicUsageError as error:
        raise CannotWrite(str(error)) from None
    if parsed != request:
        raise CannotWrite("a %%naive cell body would not keep this prompt as it is")
    return f"%%naive {options}".rstrip() + "\n" + request.prompt
