"""Lists of values as a sweep is written: AUTOMATIC1111's X/Y/Z plot syntax, made exact.

One item or many, comma separated (CSV: ``"a, b",c`` is two values; ``\\"`` is a quote inside
quotes); each item is a value or a range:

- ``1-5``          every value from 1 to 5 (``5-1`` counts down)
- ``1-10 (+2)``    a step: 1, 3, 5, 7, 9. The sign is optional (``(2)``); a signed step must go
                   the way of the range (``10-1 (-3)``: 10, 7, 4, 1)
- ``1-10 [5]``     N evenly spaced values: 1, 3, 6, 8, 10 (integers rounded half up)

Where the X/Y/Z plot script (``scripts/xyz_grid.py``) computes with floats, this computes with
:class:`decimal.Decimal`: ``0.1-0.3 (+0.1)`` is exactly 0.1, 0.2, 0.3 (the script gives
``0.30000000000000004`` and then 0.4, past the end), an end point on the step's grid is always
included (the script drops it counting down), ``[n]`` rounds rather than truncates, and a step
without a sign is read rather than refused. What is sent is the decimal written: a value becomes
the float whose shortest ``repr`` is that decimal, so no float noise reaches the API.

Errors are :class:`SweepError` with a code and the item at fault; a front end words them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from naive_nb.run.problems import SweepError

__all__ = [
    "Item",
    "as_number",
    "expand_numbers",
    "is_range",
    "show_number",
    "split_items",
]

_NUMBER = r"\d+(?:\.\d+)?"
_RANGE = re.compile(
    rf"^(?P<start>{_NUMBER})\s*-\s*(?P<end>{_NUMBER})"
    rf"(?:\s*\(\s*(?P<step>[+-]?\s*{_NUMBER})\s*\)|\s*\[\s*(?P<count>\d+)\s*\])?$"
)
_SINGLE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
#: decimals beyond the end points' own that an evenly spaced value keeps (0-1 [4]: 0.33, 0.67)
EXTRA_DIGITS = 2
#: builds the problem of one item: (code, template, **detail)
Bad = Callable[..., SweepError]


@dataclass(frozen=True)
class Item:
    """One comma-separated item as typed; ``quoted`` items are text, never a range."""

    text: str
    quoted: bool = False


def split_items(text: str, *, field: str, kind: str) -> list[Item]:
    """The items of ``text``: commas split, except inside double quotes (CSV); each is stripped
    of the spaces around it, and a quoted item is exactly what is inside its quotes.

    Raises :class:`SweepError` (``empty``, ``empty_item``, ``open_quote``)."""

    def bad(code: str, template: str) -> SweepError:
        return SweepError(code, template, field=field, text=text, kind=kind)

    if not text.strip():
        raise bad("empty", "{name} is empty.")
    items: list[Item] = []
    current: list[str] = []
    quoted = inside = False
    chars = iter(text)
    for char in chars:
        if inside:
            if char == "\\":  # \" is a quote inside quotes
                current.append(next(chars, ""))
            elif char == '"':
                inside = False
            else:
                current.append(char)
        elif char == ",":
            items.append(_item("".join(current), quoted, bad))
            current, quoted = [], False
        elif char == '"' and (quoted or not "".join(current).strip()):
            if not quoted:
                current = []
            elif current:
                current.append('"')  # "a""b": CSV's doubled quote
            inside = quoted = True
        elif not (quoted and char.isspace()):
            current.append(char)
    if inside:
        raise bad("open_quote", "{name} {text!r} has a quote that is not closed.")
    items.append(_item("".join(current), quoted, bad))
    return items


def _item(value: str, quoted: bool, bad: Callable[[str, str], SweepError]) -> Item:
    if quoted:
        return Item(value, True)
    value = value.strip()
    if not value:
        raise bad("empty_item", "{name} {text!r} has an empty item between commas.")
    return Item(value)


def is_range(text: str) -> bool:
    """True when ``text`` is one range item (``1-5``, ``1-10 (+2)``, ``1-10 [5]``)."""
    return _RANGE.match(text.strip()) is not None


def expand_numbers(
    items: list[Item], *, field: str, kind: str, integer: bool, limit: int
) -> list[Decimal]:
    """Every number the items name, in order: single numbers and ranges (see the module).

    Raises :class:`SweepError`: ``not_understood``, ``not_integer``, ``zero_step``,
    ``never_reaches``, ``count_below_one``, ``too_many``."""
    values: list[Decimal] = []
    for item in items:
        values.extend(_expand(item, field=field, kind=kind, integer=integer, limit=limit))
        if len(values) > limit:
            raise SweepError(
                "too_many",
                "{name} makes more than {limit} values; narrow the range or add a step.",
                field=field,
                text=item.text,
                kind=kind,
                limit=limit,
            )
    return values


def _expand(item: Item, *, field: str, kind: str, integer: bool, limit: int) -> list[Decimal]:
    def bad(code: str, template: str, **detail: object) -> SweepError:
        return SweepError(code, template, field=field, text=item.text, kind=kind, **detail)

    text = item.text
    if not item.quoted and _SINGLE.match(text):
        return [_whole(Decimal(text), integer, bad)]
    found = None if item.quoted else _RANGE.match(text)
    if found is None:
        raise bad("not_understood", "{name} item {text!r} is not understood.")
    start = _whole(Decimal(found["start"]), integer, bad)
    end = _whole(Decimal(found["end"]), integer, bad)
    if found["count"] is not None:
        return _evenly_spaced(start, end, int(found["count"]), integer, bad)
    direction = 1 if end >= start else -1
    if found["step"] is None:
        step = Decimal(direction)
    else:
        written = found["step"].replace(" ", "")
        step = _whole(Decimal(written), integer, bad)
        if step == 0:  # never "one by one": (+0) is a typo, and each value is a paid job
            raise bad("zero_step", "{name} item {text!r}: the step must not be 0.")
        if written[0] not in "+-":  # no sign: the step goes the way of the range
            step = abs(step) * direction
    if (end - start) * step < 0:
        raise bad(
            "never_reaches",
            "{name} item {text!r}: the step {step} never reaches {end}.",
            step=f"{step:+}",
            end=show_number(end),
        )
    count = int((end - start) / step) + 1  # before expanding: 1-100000000 is refused at once
    if count > limit:
        raise bad(
            "too_many",
            "{name} item {text!r} makes {count} values, more than {limit}; add a step.",
            count=count,
            limit=limit,
        )
    return [start + step * n for n in range(count)]


def _evenly_spaced(
    start: Decimal, end: Decimal, count: int, integer: bool, bad: Bad
) -> list[Decimal]:
    if count < 1:
        raise bad("count_below_one", "{name} item {text!r}: the count in [..] must be at least 1.")
    if count == 1:
        return [start]
    places = max(_places(start), _places(end)) + (0 if integer else EXTRA_DIGITS)
    quantum = Decimal(1).scaleb(-places)
    values = []
    for n in range(count):
        exact = start + (end - start) * n / (count - 1)
        values.append(exact.quantize(quantum, rounding=ROUND_HALF_UP).normalize() + 0)
    return list(dict.fromkeys(values))  # 1-3 [5] on integers: 1, 2, 3, not 1, 2, 2, 3, 3


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _whole(value: Decimal, integer: bool, bad: Bad) -> Decimal:
    if integer and value != value.to_integral_value():
        raise bad("not_integer", "{name} item {text!r}: {name} takes whole numbers.")
    return value


def as_number(value: Decimal, *, integer: bool) -> int | float:
    """What is sent for ``value``: an int, or the float whose shortest repr is the decimal."""
    if integer:
        return int(value)
    return float(value)


def show_number(value: object) -> str:
    """A number as a header shows it: exact, without a trailing ``.0`` (``3.5``, ``2``, ``0.1``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        try:
            exact = Decimal(repr(value)) if isinstance(value, float) else value
        except InvalidOperation:
            return str(value)
        if not exact.is_finite():
            return str(value)
        text = format(exact.normalize(), "f")
        return text
    return str(value)
