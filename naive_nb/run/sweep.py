"""Seed values for sweeps, in the syntax of AUTOMATIC1111's X/Y/Z plot.

Accepted, comma separated and mixed freely:

- ``42``                a single seed
- ``1-4``               an inclusive range (1, 2, 3, 4)
- ``1-10 (+2)``         a range with a step (1, 3, 5, 7, 9)
- ``1-10 [5]``          a range cut into N evenly spaced values (1, 3, 5, 7, 10)
- ``-1``                a random seed, resolved to a concrete one before anything is sent

Every value is checked before any work starts, so a typo never costs half a sweep.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from naive_nb.client import RANDOM_SEED_LIMIT, SEED_MAX
from naive_nb.run.problems import SweepError

__all__ = [
    "MAX_SWEEP",
    "RANDOM_SEED",
    "SEED_MAX",
    "SweepError",
    "is_value_list",
    "parse_number_values",
    "parse_seed_values",
    "random_seed",
]

MAX_SWEEP = 64  # one job per seed: a cap keeps a typo like 1-10000 from spending real credits

_RANGE = re.compile(
    r"^(?P<start>\d+)\s*-\s*(?P<end>\d+)"
    r"(?:\s*\(\s*(?P<step>[+-]?\s*\d+)\s*\)|\s*\[\s*(?P<count>\d+)\s*\])?$"
)
_SINGLE = re.compile(r"^(?P<value>\d+)$")
RANDOM_SEED = "-1"


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
    if not text.strip():
        raise _seeds("empty", "{name} is empty. Use e.g. 1-4, 1,5,9, 1-10 (+2) or 1-10 [5].", text)
    seeds: list[int] = []
    for raw_part in _split_parts(text):
        part = raw_part.strip()
        if not part:
            raise _seeds("empty_item", "{name} {text!r} has an empty item between commas.", text)
        seeds.extend(_expand(part, pick_random))
        if len(seeds) > limit:
            raise _seeds(
                "too_many",
                "{name} {text!r} makes more than {limit} jobs (one per seed); "
                "narrow the range or add a step like 1-100 (+10).",
                text,
                limit=limit,
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


def _split_parts(text: str) -> list[str]:
    # commas inside "(+2)" or "[5]" never occur in valid input, so a plain split is enough
    return text.split(",")


def _expand(part: str, pick_random: Callable[[], int]) -> list[int]:
    if part == RANDOM_SEED:
        return [pick_random()]
    single = _SINGLE.match(part)
    if single:
        return [_checked(int(single["value"]), part)]
    found = _RANGE.match(part)
    if not found:
        raise _seeds(
            "not_understood",
            "{name} item {text!r} is not understood. Allowed: 42, 1-4, 1,5,9, 1-10 (+2), "
            "1-10 [5], or -1 for a random seed.",
            part,
        )
    start = _checked(int(found["start"]), part)
    end = _checked(int(found["end"]), part)
    if found["count"] is not None:
        return _evenly_spaced(start, end, int(found["count"]), part)
    if found["step"] is None:
        step = 1 if end >= start else -1
    else:
        step = int(found["step"].replace(" ", ""))
    if step == 0:  # never "one by one": (+0) is a typo, and each seed is a paid job
        raise _seeds(
            "zero_step", "{name} item {text!r}: the step must not be 0; e.g. 1-10 (+2).", part
        )
    if (end - start) * step < 0:
        raise _seeds(
            "never_reaches",
            "{name} item {text!r}: the step {step:+d} never reaches {end}.",
            part,
            step=step,
            end=end,
        )
    return list(range(start, end + (1 if step > 0 else -1), step))


def _evenly_spaced(start: int, end: int, count: int, part: str) -> list[int]:
    if count < 1:
        raise _seeds(
            "count_below_one", "{name} item {text!r}: the count in [..] must be at least 1.", part
        )
    if count == 1:
        return [start]
    # int() truncation as in the X/Y/Z plot script, so the same text gives the same seeds there
    values = [int(start + (end - start) * i / (count - 1)) for i in range(count)]
    return list(dict.fromkeys(values))


def _checked(value: int, part: str) -> int:
    if not 0 <= value <= SEED_MAX:
        raise _seeds(
            "out_of_range", "{name} item {text!r}: seeds run from 0 to {high}.", part, high=SEED_MAX
        )
    return value


_NUMBER = r"\d+(?:\.\d+)?"
_NUMBER_RANGE = re.compile(
    rf"^(?P<start>{_NUMBER})\s*-\s*(?P<end>{_NUMBER})"
    rf"(?:\s*\(\s*(?P<step>[+-]?\s*{_NUMBER})\s*\)|\s*\[\s*(?P<count>\d+)\s*\])?$"
)


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
    """Values for a sweep over the number ``field`` (``4,8,12``, ``2-8 (+3)``, ``1-7 [4]``)."""

    def bad(code: str, template: str, item: str, **detail: object) -> SweepError:
        return SweepError(code, template, field=field, text=item, kind="numbers", **detail)

    values: list[float] = []
    for raw_part in text.split(","):
        part = raw_part.strip()
        if re.fullmatch(_NUMBER, part):
            values.append(float(part))
            continue
        found = _NUMBER_RANGE.match(part)
        if not found:
            raise bad(
                "not_understood",
                "{name} item {text!r} is not understood; {name} takes a number or a list like "
                "4,8,12, 4-12 (+4) or 1-7 [4].",
                part,
            )
        start, end = float(found["start"]), float(found["end"])
        if found["count"] is not None:
            count = int(found["count"])
            if count < 1:
                raise bad(
                    "count_below_one",
                    "{name} item {text!r}: the count in [..] must be at least 1.",
                    part,
                )
            values.extend(
                start + (end - start) * i / (count - 1) if count > 1 else start
                for i in range(count)
            )
            continue
        step = float(found["step"].replace(" ", "")) if found["step"] is not None else 1.0
        if step == 0:
            raise bad(
                "zero_step", "{name} item {text!r}: the step must not be 0; e.g. 4-12 (+4).", part
            )
        if (end - start) * step < 0:
            raise bad(
                "never_reaches",
                "{name} item {text!r}: the step never reaches {end:g}.",
                part,
                end=end,
            )
        value = start
        while (value <= end + 1e-9) if step > 0 else (value >= end - 1e-9):
            values.append(value)
            value += step
            if len(values) > limit:
                break
    if len(values) > limit:
        raise bad(
            "too_many",
            "{name} {text!r} makes more than {limit} values; narrow it.",
            text,
            limit=limit,
        )
    converted: list[float] = [float(int(v)) if integer else round(v, 3) for v in values]
    for value in converted:
        if not low <= value <= high:
            raise bad(
                "out_of_range",
                "{name} values must be {sort} from {low:g} to {high:g}; got {value:g}.",
                text,
                sort="integers" if integer else "numbers",
                low=low,
                high=high,
                value=value,
            )
    unique = list(dict.fromkeys(converted))
    if len(unique) < len(converted):
        raise bad("repeated", "{name} {text!r} repeats a value: it would be paid twice.", text)
    if integer:
        return [int(v) for v in unique]
    return unique


def _seeds(code: str, template: str, text: str, **detail: object) -> SweepError:
    return SweepError(code, template, field="seeds", text=text, kind="seeds", **detail)
