"""The inverse of the parser (the panel's "copy as cell"): ``parse_line(to_line(r)).request == r``
for every request a line can express, and a clear refusal for one it cannot."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive_nb.client import IMAGE_SIZES, SEED_MAX
from naive_nb.notebook.args import parse_line
from naive_nb.notebook.cells import CannotWrite, to_cell, to_line
from naive_nb.run import Axis, Request

# any printable text on one line: quotes, backslashes, #, dashes of every kind, $ and {}
LINE_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
        blacklist_characters="\x1f",
    ),
    max_size=40,
)
KEYS = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
    lambda key: key not in ("prompt", "seed")
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | LINE_TEXT,
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)
GUIDANCE = st.integers(0, 20_000).map(lambda n: n / 1000)


def _params() -> st.SearchStrategy[dict[str, Any]]:
    known = st.fixed_dictionaries(
        {},
        optional={
            "num_images": st.integers(-2, 8),
            "image_size": st.sampled_from(list(IMAGE_SIZES))
            | st.builds(
                lambda w, h: {"width": w, "height": h},
                st.integers(1, 4096),
                st.integers(1, 4096),
            )
            | LINE_TEXT,
            "num_inference_steps": st.integers(-5, 60),
            "guidance_scale": GUIDANCE | st.integers(0, 20),
            "output_format": st.sampled_from(["jpeg", "png", "JPG", "webp"]),
            "negative_prompt": LINE_TEXT,
            "enable_safety_checker": st.booleans(),
        },
    )
    return st.tuples(known, st.dictionaries(KEYS, JSON, max_size=2)).map(
        lambda parts: {**parts[1], **parts[0]}
    )


@st.composite
def requests(draw: st.DrawFn) -> Request:
    params = draw(_params())
    axes = []
    if "num_inference_steps" not in params and draw(st.booleans()):
        values = draw(st.lists(st.integers(0, 60), min_size=2, max_size=4, unique=True))
        axes.append(Axis("num_inference_steps", tuple(values), "steps"))
    if "guidance_scale" not in params and draw(st.booleans()):
        values = draw(st.lists(GUIDANCE, min_size=2, max_size=4, unique=True))
        axes.append(Axis("guidance_scale", tuple(values), "cfg"))
    seeds = draw(
        st.just(())
        | st.tuples(st.integers(0, SEED_MAX))
        | st.lists(st.integers(0, SEED_MAX), min_size=2, max_size=6, unique=True).map(tuple)
    )
    refresh, cache_only = draw(st.sampled_from([(False, False), (True, False), (False, True)]))
    return Request(
        prompt=draw(LINE_TEXT),
        model=draw(st.none() | st.sampled_from(["fal-ai/flux/dev", "acme/imagine v2", "-odd"])),
        params=params,
        seeds=seeds,
        axes=tuple(axes),
        refresh=refresh,
        cache_only=cache_only,
        timeout=draw(st.none() | st.floats(1, 86400)),
    )


@settings(max_examples=400, deadline=None)
@given(requests())
def test_a_request_written_as_a_line_reads_back_as_itself(request: Request) -> None:
    line = to_line(request)
    assert parse_line(line).request == request
    assert to_cell(request) == f"%naive {line}"


@settings(max_examples=100, deadline=None)
@given(requests(), st.lists(LINE_TEXT.filter(lambda t: t.strip()), min_size=2, max_size=3))
def test_a_prompt_of_several_lines_becomes_a_cell(request: Request, lines: list[str]) -> None:
    prompt = "\n".join(lines)
    request = Request(**{**request.__dict__, "prompt": prompt})
    try:
        cell = to_cell(request)
    except CannotWrite:  # a body line a cell would read as a comment or a flag
        assert any(line.lstrip().startswith(("#", "-", "\u2013", "\u2014")) for line in lines) or (
            prompt != prompt.strip()
        )
        return
    first, _, body = cell.partition("\n")
    assert first.startswith("%%naive")
    assert parse_line(first.removeprefix("%%naive"), body).request == request


@pytest.mark.parametrize(
    ("request_", "line"),
    [
        (Request("a red fox", seeds=(42,)), "a red fox --seed=42"),
        (
            Request("a cat", seeds=(1, 2), axes=(Axis("num_inference_steps", (4, 8), "steps"),)),
            "a cat --seeds=1,2 --steps=4,8",
        ),
        (Request("status report"), '"status report"'),  # a subcommand word: quoted
        (Request("-cute", params={"num_images": 2}), '"-cute" --num=2'),
    ],
)
def test_lines_read_as_a_person_would_write_them(request_: Request, line: str) -> None:
    assert to_line(request_) == line


def test_what_no_line_can_say_is_refused() -> None:
    # issue 10: a model axis is now written with --vary (it was refused); an axis whose
    # values set several keys under a name of its own (from compare()'s dicts) has no line
    setup = Axis("", ({"model": "fal-ai/flux/dev", "num_inference_steps": 8},), "setup")
    with pytest.raises(CannotWrite, match="axis 'setup'"):
        to_line(Request("a cat", axes=(setup,)))
    with pytest.raises(CannotWrite, match="%%naive cell"):
        to_line(Request("two\nlines"))
