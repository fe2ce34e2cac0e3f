"""Seed lists in the X/Y/Z plot syntax, checked in full before any work."""

from __future__ import annotations

import pytest

from naive_nb.run.sweep import (
    SEED_MAX,
    SweepError,
    is_value_list,
    parse_number_values,
    parse_seed_values,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", [42]),
        ("1-4", [1, 2, 3, 4]),
        ("4-1", [4, 3, 2, 1]),
        ("1,5,9", [1, 5, 9]),
        (" 1 , 5 ", [1, 5]),
        ("1-10 (+2)", [1, 3, 5, 7, 9]),
        ("10-1 (-3)", [10, 7, 4, 1]),
        ("1-10 [5]", [1, 3, 6, 8, 10]),  # issue 10: rounded evenly (A1111 truncates: 3,5,7)
        ("0-100 [3]", [0, 50, 100]),
        ("7-9 [1]", [7]),
        ("1-3,10,20-30 (+5)", [1, 2, 3, 10, 20, 25, 30]),
        (f"{SEED_MAX}", [SEED_MAX]),
    ],
)
def test_values(text: str, expected: list[int]) -> None:
    assert parse_seed_values(text) == expected


def test_random_seed_is_resolved_to_a_concrete_value() -> None:
    assert parse_seed_values("1,-1,3", pick_random=lambda: 777) == [1, 777, 3]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("1,,2", "empty item"),
        ("a-b", "not understood"),
        ("1.5", "not understood"),
        ("1-10 (+0)", "the step must not be 0"),  # issue 7: never 10 paid jobs for a typo
        ("1-10 (-1)", "never reaches"),
        ("1-10 [0]", "at least 1"),
        (f"{SEED_MAX + 1}", "from 0 to"),
        ("1-100", "more than 64 jobs"),
        ("3,1-4", "repeats seed 3"),
    ],
)
def test_refusals(text: str, needle: str | None) -> None:
    if needle is None:
        assert parse_seed_values(text) == list(range(1, 11))
        return
    with pytest.raises(SweepError, match=needle):
        parse_seed_values(text)


def test_a_bad_item_anywhere_refuses_the_whole_list() -> None:
    with pytest.raises(SweepError, match="'x'"):
        parse_seed_values("1-4,x")


@pytest.mark.parametrize(
    ("text", "integer", "expected"),
    [
        ("4,8,12", True, [4, 8, 12]),
        ("2-8 (+3)", True, [2, 5, 8]),
        ("1-10 [4]", True, [1, 4, 7, 10]),
        ("1.5,3.5", False, [1.5, 3.5]),
        ("1-2 (+0.25)", False, [1.0, 1.25, 1.5, 1.75, 2.0]),
        ("1-7 [4]", False, [1.0, 3.0, 5.0, 7.0]),
    ],
)
def test_number_sweeps(text: str, integer: bool, expected: list[float]) -> None:
    assert parse_number_values(text, field="--x", integer=integer, low=0, high=20) == expected


def test_number_sweep_refusals() -> None:
    with pytest.raises(SweepError, match="not understood"):
        parse_number_values("a,b", field="--steps", integer=True, low=1, high=50)
    with pytest.raises(SweepError, match="from 1 to 50"):
        parse_number_values("40-60 (+10)", field="--steps", integer=True, low=1, high=50)
    assert is_value_list("4,8") and is_value_list("2-6") and not is_value_list("8")
