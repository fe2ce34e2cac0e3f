"""The client refuses, before sending, every request body the embedded server's rules refuse.

The client states the contract's limits on its own (``naive_nb.client._validation``, no import of
the server). This test walks the server's catalog: for every model it lists and every key it takes,
bad values of every kind and a few good ones; whenever ``validate_generate`` refuses a body the
client must refuse it too, naming the same field, and a body the server takes the client takes.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from naive_nb.client._sync import Client
from naive_nb.client._types import ModelInfo
from naive_nb.client._validation import (
    steps_range,
    validate_input,
    validate_model,
    validate_values,
)
from naive_nb.errors import ValidationError
from naive_nb.local import LocalServer
from naive_nb.local import catalog as served

CATALOG = [ModelInfo.from_api(model.describe()) for model in served.MODELS.values()]
REQUIRED_GOOD = {"prompt": "a cat", "image_url": "https://example.test/cat.png"}
GOOD_COLOUR = {"r": 10, "g": 200, "b": 255}


def _texts() -> Iterator[Any]:
    limit = served.MAX_PROMPT_CHARS
    yield from ("", " ", "\n\t ", "a cat", "x", "1", "None")
    yield from ("x" * limit, "x" * (limit + 1), " " * (limit + 1), "a" + " " * limit)
    yield "x" * 100_000
    for choices in (served.IMAGE_SIZES, served.OUTPUT_FORMATS, served.RECRAFT_STYLES):
        for choice in choices:
            yield from (choice, choice.upper(), f" {choice}", f"{choice}/extra")
    yield from ("huge", "gif", "webp", "anime", "realistic_image/b_and_w")
    yield from ("http://example.test/a.png", "https://example.test/a.png", "data:image/png;,AA")
    yield from ("ftp://example.test/a.png", "/tmp/a.png", "HTTP://EXAMPLE.TEST", "data")


def _numbers() -> Iterator[Any]:
    yield from (None, True, False)
    yield from range(-2, 60)
    yield from (99, 254, 255, 256, 1000, served.SEED_MAX, served.SEED_MAX + 1, -(2**31), 2**63)
    yield from (0.0, 0.5, 1.0, 1.5, 3.5, 4.0, 12.0, 19.99, 20.0, 20.01, -0.01, 1.01, 1e300)
    yield from (math.nan, math.inf, -math.inf)
    yield from ("1", "3.5", "true")


def _sizes() -> Iterator[Any]:
    low, high = served.MIN_SIDE, served.MAX_SIDE
    sides: list[Any] = [low - 32, low - 1, low, low + 16, 512, 1000, 1024, high, high + 32]
    sides += [512.0, True, "512", None, -512, 0]
    for side in sides:
        yield {"width": side, "height": 512}
        yield {"width": 768, "height": side}
    yield from ({}, {"width": 512}, {"width": 512, "height": 512, "depth": 1}, [512, 512])
    yield from ({"w": 512, "h": 512}, (512, 512), "512x512")


def _colours() -> Iterator[Any]:
    shapes: list[Any] = [
        GOOD_COLOUR,
        {"r": 0, "g": 0, "b": 0},
        {"r": 256, "g": 0, "b": 0},
        {"r": 0, "g": -1, "b": 0},
        {"r": 0, "g": 0, "b": 1.0},
        {"r": True, "g": 0, "b": 0},
        {"r": "255", "g": 0, "b": 0},
        {"r": 0, "g": 0},
        {"r": 0, "g": 0, "b": 0, "a": 0},
        [255, 0, 0],
        "#ff0000",
        None,
    ]
    for shape in shapes:
        yield [shape]
        yield [GOOD_COLOUR, shape]
    for count in range(7):
        yield [GOOD_COLOUR] * count
        yield tuple([GOOD_COLOUR] * count)  # sent as a JSON list
    yield from ("red", {"r": 0, "g": 0, "b": 0}, None, 3)


def candidate_values() -> list[Any]:
    """Bad values of every kind, and good ones, each tried for every key."""
    return [*_texts(), *_numbers(), *_sizes(), *_colours(), [], {}, [1], {"a": 1}]


def server_refusal(model: str, data: dict[str, Any]) -> str | None:
    """The field the server refuses ``data`` for (None: it takes it), after a JSON round trip."""
    body = json.loads(json.dumps({"model": model, "input": data}))
    try:
        served.validate_generate(body)
    except served.InputError as error:
        return error.field
    return None


def client_refusal(model: str, data: dict[str, Any]) -> ValidationError | None:
    """What ``submit`` does before its POST: the values, then the served catalog's keys."""
    try:
        validate_values(model, data)
        validate_input(validate_model(model, CATALOG), data)
    except ValidationError as error:
        return error
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def test_every_value_the_server_refuses_is_refused_by_the_client_first() -> None:
    values = candidate_values()
    disagreements: list[str] = []
    unreadable: list[str] = []
    refused_by_server: dict[tuple[str, str], int] = {}
    taken_by_server: dict[tuple[str, str], int] = {}
    for model in served.MODELS.values():
        for key in model.key_params:
            for value in values:
                data = {name: REQUIRED_GOOD[name] for name in model.required}
                data[key] = value
                theirs = server_refusal(model.id, data)
                ours = client_refusal(model.id, data)
                tally = taken_by_server if theirs is None else refused_by_server
                tally[model.id, key] = tally.get((model.id, key), 0) + 1
                if (ours.field if ours else None) != theirs:
                    disagreements.append(
                        f"{model.id} input.{key}={_shown(value)}: server refuses {theirs}, "
                        f"client refuses {ours.field if ours else None}"
                    )
                if ours is not None and (str(ours.field) not in str(ours) or len(str(ours)) > 300):
                    unreadable.append(str(ours))  # a message is short and names its field
    assert disagreements == []
    assert unreadable == []
    # the walk reached every rule: each key of each model was both refused and taken
    every_key = {(m.id, key) for m in served.MODELS.values() for key in m.key_params}
    assert set(refused_by_server) == every_key
    assert set(taken_by_server) == every_key


def test_keys_a_model_does_not_take_and_missing_required_keys_are_refused_alike() -> None:
    all_keys = sorted({key for m in served.MODELS.values() for key in m.key_params})
    good = {"num_images": 1, "seed": 1, "image_size": "square", "prompt": "a cat"}
    for model in served.MODELS.values():
        base = {name: REQUIRED_GOOD[name] for name in model.required}
        for key in [*all_keys, "steps", "Prompt", "negative-prompt", ""]:
            if key in model.key_params:
                continue
            data = {**base, key: good.get(key, REQUIRED_GOOD.get(key, "x"))}
            theirs = server_refusal(model.id, data)
            assert theirs == f"input.{key}"
            ours = client_refusal(model.id, data)
            assert ours is not None and ours.field == theirs
        for missing in model.required:
            data = {k: v for k, v in base.items() if k != missing}
            assert server_refusal(model.id, data) == f"input.{missing}"
            ours = client_refusal(model.id, data)
            assert ours is not None and ours.field == f"input.{missing}"


def test_model_ids_outside_the_catalog_are_refused_alike() -> None:
    for model in ["nope", "", "FAL-AI/FLUX/SCHNELL", "fal-ai/flux", "fal-ai/flux/schnell "]:
        assert server_refusal(model, {"prompt": "a cat"}) == "model"
        ours = client_refusal(model, {"prompt": "a cat"})
        assert ours is not None and ours.field == "model"


def test_steps_ranges_agree_for_every_model_that_takes_steps() -> None:
    takes_steps = [m for m in served.MODELS.values() if "num_inference_steps" in m.key_params]
    assert takes_steps
    for model in takes_steps:
        assert steps_range(model.id) == (model.steps_range or (1, 50)), model.id
    assert steps_range("fal-ai/flux/schnell") == (1, 12)
    refusal = client_refusal("fal-ai/flux/schnell", {"prompt": "x", "num_inference_steps": 0})
    assert refusal is not None and "from 1 to 12" in str(refusal)


@pytest.mark.parametrize(
    ("call", "field", "says"),
    [
        (lambda c: c.generate("   "), "input.prompt", "non-empty"),
        (lambda c: c.generate("x" * 100_000), "input.prompt", "at most 4000 characters"),
        (lambda c: c.generate("a cat", num_images=5), "input.num_images", "from 1 to 4"),
        (lambda c: c.generate("a cat", seed=-1), "input.seed", "from 0 to"),
        (lambda c: c.generate("a cat", image_size="huge"), "input.image_size", "square_hd"),
        (
            lambda c: c.generate("a cat", model="fal-ai/recraft-v3", style="anime"),
            "input.style",
            "'realistic_image', 'digital_illustration', 'vector_illustration', 'any'",
        ),
        (
            lambda c: c.generate("a cat", model="fal-ai/recraft-v3", colors=["red"]),
            "input.colors",
            '{"r": R, "g": G, "b": B}',
        ),
        (
            lambda c: c.generate("a cat", model="fal-ai/recraft-v3", colors=[GOOD_COLOUR] * 6),
            "input.colors",
            "at most 5",
        ),
        (
            lambda c: c.submit("fal-ai/flux/dev", {"prompt": "x", "num_inference_steps": 51}),
            "input.num_inference_steps",
            "from 1 to 50 for fal-ai/flux/dev",
        ),
        (
            lambda c: c.submit(
                "fal-ai/stable-diffusion-v35-large", {"prompt": "x", "negative_prompt": "n" * 4001}
            ),
            "input.negative_prompt",
            "at most 4000",
        ),
    ],
)
def test_bad_input_is_refused_before_any_request(
    local_server: LocalServer,
    make_client: Callable[..., Client],
    call: Callable[[Client], object],
    field: str,
    says: str,
) -> None:
    client = make_client()
    with pytest.raises(ValidationError) as info:
        call(client)
    assert info.value.field == field
    assert says in str(info.value)
    assert len(str(info.value)) < 300
    assert local_server.request_log == []  # not even the catalog was read: nothing was sent


def test_the_candidate_values_cover_the_server_rules_boundaries() -> None:
    # guards the walk itself: the limits it probes are the server's current ones
    values = candidate_values()
    limit = served.MAX_PROMPT_CHARS
    assert any(isinstance(v, str) and len(v) == limit + 1 for v in values)
    assert served.SEED_MAX + 1 in values and served.MIN_SIDE - 32 in [
        v.get("width") for v in values if isinstance(v, dict)
    ]
    steps_bounds = {b for m in served.MODELS.values() if m.steps_range for b in m.steps_range}
    assert all(b - 1 in values and b + 1 in values for b in steps_bounds)
    assert set(itertools.chain(served.RECRAFT_STYLES, served.OUTPUT_FORMATS)) <= set(
        v for v in values if isinstance(v, str)
    )
