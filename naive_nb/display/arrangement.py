"""Which axis goes where in a grid: :func:`arrange` turns ``r.grid(cols=, rows=, z=, where=)``
into an :class:`Arrangement`, checking every name and value first.

The rules (the order of the plan's axes is the default layout order):

- X (``cols``) across, Y (``rows``) down, Z one section per value, each with a heading; any
  further axes are facets: one section per combination of their values (headings name them all);
- axes named in the call take their role; the others fill the free roles in the plan's order;
- ``where={"model": [...], "seed": 3}`` keeps those values, in the order given (so it sorts
  too); an axis left with one value and not named in the call moves into the title;
- a grid with columns only (one axis) wraps into balanced rows of at most four, each tile
  captioned with its value, as a ``--seeds`` result always has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from naive_nb.run.axes import key_of
from naive_nb.run.request import Axis

__all__ = ["Arrangement", "GridError", "arrange", "header", "value_text"]

ROLES = ("cols", "rows", "z")


class GridError(ValueError):
    """A grid asked for with a name or value the result does not have.

    ``field`` is the argument (``cols``, ``rows``, ``z``, ``where``), ``value`` what was given,
    ``allowed`` what it could have been."""

    def __init__(self, message: str, *, field: str, value: Any, allowed: Sequence[str]) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = tuple(allowed)


def value_text(axis: Axis, value: Any) -> str:
    """How a header shows one value of ``axis`` (the run layer's form: exact numbers, model
    ids without their provider)."""
    return axis.show(value)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def header(axis: Axis, value: Any) -> str:
    """``name value``, e.g. ``steps 4``: what a header (and a caption part) says."""
    return f"{axis.label} {value_text(axis, value)}"


@dataclass(frozen=True)
class Arrangement:
    """Where each of the plan's axes goes (indices into the axes), and the values shown.

    ``values[i]`` are the values of axis ``i`` shown, in order; ``fixed`` the axes left with one
    value (shown in the title, not as a header); ``wrap``: columns only, wrapped into rows."""

    cols: int | None
    rows: int | None
    z: int | None
    facets: tuple[int, ...]
    values: tuple[tuple[Any, ...], ...]
    fixed: tuple[int, ...] = ()
    wrap: bool = False

    @property
    def sectioned(self) -> tuple[int, ...]:
        """The axes that split the grid into sections: the facets, then Z."""
        return self.facets + (() if self.z is None else (self.z,))

    def transposed(self) -> Arrangement:
        """Rows become columns and columns rows (a wrapped row becomes one column)."""
        return replace(self, cols=self.rows, rows=self.cols, wrap=False)

    def describe(self, axes: Sequence[Axis]) -> dict[str, Any]:
        """The arrangement by axis names (for the provenance of a saved grid)."""

        def name(index: int | None) -> str | None:
            return None if index is None else axes[index].label

        return {
            "cols": name(self.cols),
            "rows": name(self.rows),
            "z": name(self.z),
            "facets": [name(i) for i in self.facets],
            "fixed": [name(i) for i in self.fixed],
        }


def _names(axis: Axis) -> set[str]:
    names = {axis.label.lower()}
    if axis.key:
        names.add(axis.key.lower())
    if axis.label.lower() == "seed":
        names.add("seeds")
    return names


def _find(axes: Sequence[Axis], name: Any, field: str) -> int:
    if isinstance(name, str):
        # a label, an input key, or a short name the sweeps take (cfg, guidance, size...)
        asked = {name.lower(), key_of(name).lower()}
        for index, axis in enumerate(axes):
            if asked & _names(axis):
                return index
    allowed = [axis.label for axis in axes]
    shown = ", ".join(allowed) if allowed else "none (this result varies nothing)"
    raise GridError(
        f"grid({field}={name!r}): this result has no axis {name!r}; its axes: {shown}.",
        field=field,
        value=name,
        allowed=allowed,
    )


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def same_value(axis: Axis, given: Any, value: Any) -> bool:
    """True when ``given`` names ``value`` of ``axis``: equal (4 == 4.0 == Decimal("4")), its
    text as headers show it (``flux/dev``), its plain text, or a model id's last part
    (``dev``): the names ``r.select()`` takes too."""
    if isinstance(given, bool) or isinstance(value, bool):
        return given is value
    if given == value:
        return True
    if axis.kind == "model" and isinstance(given, str) and str(value).endswith("/" + given):
        return True  # a model by its last part: "dev" for fal-ai/flux/dev
    number, target = _number(given), _number(value)
    if number is not None and target is not None and number == target:
        return True
    return isinstance(given, str) and given in (value_text(axis, value), _plain(value))


def _filtered(axis: Axis, wanted: Any) -> tuple[Any, ...]:
    listed = list(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]
    kept: list[Any] = []
    for given in listed:
        match = next((v for v in axis.values if same_value(axis, given, v)), _MISSING)
        if match is _MISSING:
            allowed = [value_text(axis, v) for v in axis.values]
            raise GridError(
                f"grid(where={{{axis.label!r}: ...}}): {given!r} is not one of its values: "
                f"{', '.join(allowed)}.",
                field="where",
                value=given,
                allowed=allowed,
            )
        if match not in kept:
            kept.append(match)
    if not kept:
        raise GridError(
            f"grid(where={{{axis.label!r}: []}}) keeps no value; name at least one.",
            field="where",
            value=wanted,
            allowed=[value_text(axis, v) for v in axis.values],
        )
    return tuple(kept)


_MISSING = object()


def arrange(
    axes: Sequence[Axis],
    *,
    cols: str | None = None,
    rows: str | None = None,
    z: str | None = None,
    where: Mapping[str, Any] | None = None,
) -> Arrangement:
    """Place ``axes`` (see the module docstring); raises :class:`GridError` naming the argument
    and what it could be before anything is drawn."""
    values = [tuple(axis.values) for axis in axes]
    for name, wanted in (where or {}).items():
        index = _find(axes, name, "where")
        values[index] = _filtered(axes[index], wanted)
    named: dict[str, int] = {}
    for role, asked in zip(ROLES, (cols, rows, z), strict=True):
        if asked is None:
            continue
        index = _find(axes, asked, role)
        if index in named.values():
            other = next(r for r, i in named.items() if i == index)
            raise GridError(
                f"grid({other}=..., {role}={asked!r}): {axes[index].label!r} takes one place.",
                field=role,
                value=asked,
                allowed=[axis.label for axis in axes],
            )
        named[role] = index
    fixed = tuple(i for i in range(len(axes)) if len(values[i]) == 1 and i not in named.values())
    free = [i for i in range(len(axes)) if i not in named.values() and i not in fixed]
    places: dict[str, int | None] = {}
    for role in ROLES:
        places[role] = named[role] if role in named else (free.pop(0) if free else None)
    wrap = places["rows"] is None and places["z"] is None and not free
    return Arrangement(
        cols=places["cols"],
        rows=places["rows"],
        z=places["z"],
        facets=tuple(free),
        values=tuple(values),
        fixed=fixed,
        wrap=wrap and places["cols"] is not None,
    )
