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
from naive_nb.run.request import Axis, Request

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


def _axis(axis: Axis) -> str:
    flag = _AXIS_FLAGS.get(axis.key)
    if flag is None or axis.label != AXIS_NAMES[axis.key] or len(axis.values) < 2:
        raise CannotWrite(f"no %naive flag sweeps the axis {axis.label!r} as asked")
    return f"{flag}={','.join(_number(value) for value in axis.values)}"


def _options(request: Request) -> list[str]:
    parts = []
    if request.model is not None:
        parts.append(f"--model={_quoted(request.model)}")
    if len(request.seeds) == 1:
        parts.append(f"--seed={request.seeds[0]}")
    elif request.seeds:
        parts.append(f"--seeds={','.join(str(seed) for seed in request.seeds)}")
    parts.extend(_param(key, value) for key, value in request.params.items())
    parts.extend(_axis(axis) for axis in request.axes)
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
