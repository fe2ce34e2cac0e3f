"""Seed and number lists for sweeps, in the syntax of AUTOMATIC1111's X/Y/Z plot (made exact:
see :mod:`naive_nb.run.values`).

Seeds, comma separated and mixed freely:

- ``42``                a single seed
- ``1-4``               an inclusive range (1, 2, 3, 4)
- ``1-10 (+2)``         a range with a step (1, 3, 5, 7, 9); the sign may be left out
- ``1-10 [5]``          N evenly spaced values, rounded (1, 3, 6, 8, 10)
- ``-1`` or ``random``  a random seed, made concrete before anything is sent

Every value is checked before any work starts, so a typo never costs half a sweep.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from decimal import Decimal

from naive_nb.client import RANDOM_SEED_LIMIT, SEED_MAX
from naive_nb.run.problems import SweepError
from naive_nb.run.values import Item, as_number, expand_numbers, split_items

__all__ = [
    "MAX_SWEEP",
    "RANDOM_SEED",
    "RANDOM_WORDS",
    "SEED_MAX",
    "SweepError",
    "is_value_list",
    "parse_number_values",
    "parse_seed_values",
    "random_seed",
]

MAX_SWEEP = 64  # values per list: a cap keeps a typo like 1-10000 from spending real credits
RANDOM_SEED = "-1"
#: what asks for a random seed in a seed list (made concrete before anything is sent)
RANDOM_WORDS = (RANDOM_SEED, "random")
_SEEDS_ALLOWED = "Allowed: 42, 1-4, 1,5,9, 1-10 (+2), 1-10 [5], or -1 for a random seed."


def random_seed() -> int:
    """A concrete seed for a request that gave none (so it can be re-made and cached).

    Drawn from the same range as the client's own choice (below 2**31, which every provider's
    integer type holds), though any seed up to ``SEED_MAX`` may be asked for explicitly.
    """
    return secrets.randbelow(RANDOM_SEED_LIMIT)


def parse_seed_values(
    text: str, *, pick_random: Callable[[], int] = random_seed, limit: int = MAX_SWEEP
) -> list[int]:
    """Expand ``text`` into concrete seeds, or raise :class:`SweepError` naming the bad part."""
    try:
        items = split_items(text, field="seeds", kind="seeds")
    except SweepError as error:
        if error.code == "empty":
            raise _seeds(
                "empty", "{name} is empty. Use e.g. 1-4, 1,5,9, 1-10 (+2) or 1-10 [5].", text
            ) from None
        raise
    seeds: list[int] = []
    for item in items:
        seeds.extend(_seed_item(item, pick_random, limit, text))
        if len(seeds) > limit:
            raise _too_many(text, limit)
    return check_seeds(seeds, text)


def _too_many(text: str, limit: int) -> SweepError:
    return _seeds(
        "too_many",
        "{name} {text!r} makes more than {limit} jobs (one per seed); "
        "narrow the range or add a step like 1-100 (+10).",
        text,
        limit=limit,
    )


def check_seeds(seeds: list[int], text: str) -> list[int]:
    """``seeds`` when each is in range and none repeats, else the :class:`SweepError`."""
    for seed in seeds:
        if not 0 <= seed <= SEED_MAX:
            raise _seeds(
                "out_of_range",
                "{name} item {text!r}: seeds run from 0 to {high}.",
                str(seed),
                high=SEED_MAX,
            )
    duplicates = sorted({s for s in seeds if seeds.count(s) > 1})
    if duplicates:
        raise _seeds(
            "repeated",
            "{name} {text!r} repeats seed {value}: each seed would be paid twice for the same "
            "image.",
            text,
            value=duplicates[0],
        )
    return seeds


def _seed_item(item: Item, pick_random: Callable[[], int], limit: int, text: str) -> list[int]:
    if not item.quoted and item.text.lower() in RANDOM_WORDS:
        return [pick_random()]
    try:
        values = expand_numbers([item], field="seeds", kind="seeds", integer=True, limit=limit)
    except SweepError as error:
        if error.code == "too_many":
            raise _too_many(text, limit) from None
        if error.code in ("not_understood", "not_integer") or item.text.startswith("-"):
            raise _seeds(
                "not_understood",
                "{name} item {text!r} is not understood. " + _SEEDS_ALLOWED,
                item.text,
            ) from None
        raise
    return [int(value) for value in values]


def is_value_list(text: str) -> bool:
    """True when a flag's value asks for several values (``4,8``, ``2-6 (+2)``, ``1-7 [4]``)."""
    return bool(re.search(r"[,\[(]|\d\s*-\s*\d", text))


def parse_number_values(
    text: str,
    *,
    field: str,
    integer: bool,
    low: float,
    high: float,
    limit: int = MAX_SWEEP,
) -> list[int] | list[float]:
    """Values for a sweep over the number ``field`` (``4,8,12``, ``2-8 (+3)``, ``1-7 [4]``),
    each within ``low`` to ``high``; none repeated."""
    items = split_items(text, field=field, kind="numbers")
    try:
        values = expand_numbers(items, field=field, kind="numbers", integer=integer, limit=limit)
    except SweepError as error:
        if error.code == "not_understood":
            raise SweepError(
                "not_understood",
                "{name} item {text!r} is not understood; {name} takes a number or a list like "
                "4,8,12, 4-12 (+4) or 1-7 [4].",
                field=field,
                text=error.detail.get("text", text),
                kind="numbers",
            ) from None
        raise
    return check_numbers(values, text, field=field, integer=integer, low=low, high=high)


def check_numbers(
    values: list[Decimal], text: str, *, field: str, integer: bool, low: float, high: float
) -> list[int] | list[float]:
    """``values`` as sent (ints, or floats without noise) when in range and none repeats."""
    for value in values:
        if not Decimal(str(low)) <= value <= Decimal(str(high)):
            raise SweepError(
                "out_of_range",
                "{name} values must be {sort} from {low:g} to {high:g}; got {value}.",
                field=field,
                text=text,
                kind="numbers",
                sort="integers" if integer else "numbers",
                low=low,
                high=high,
                value=format(value.normalize(), "f"),
            )
    if len(set(values)) < len(values):
        raise SweepError(
            "repeated",
            "{name} {text!r} repeats a value: it would be paid twice.",
            field=field,
            text=text,
            kind="numbers",
        )
    if integer:
        return [int(value) for value in values]
    return [float(as_number(value, integer=False)) for value in values]


def _seeds(code: str, template: str, text: str, **detail: object) -> SweepError:
    return SweepError(code, template, field="seeds", text=text, kind="seeds", **detail)
