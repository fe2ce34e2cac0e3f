"""Requests checked against the model's key_params and the documented ranges."""

from __future__ import annotations

from typing import Any

import pytest

from naive_nb.run.params import (
    InputProblem,
    check_input,
    known_model,
    model_from_catalog,
    parse_image_size,
    parse_param_value,
    pixel_size,
)


def _spec(model: str = "fal-ai/flux/schnell") -> Any:
    spec = known_model(model)
    assert spec is not None
    return spec


def test_a_complete_valid_request_passes() -> None:
    check_input(
        _spec(),
        {
            "prompt": "a fox",
            "image_size": {"width": 768, "height": 512},
            "num_images": 4,
            "seed": 0,
            "num_inference_steps": 12,
            "guidance_scale": 3.5,
            "output_format": "png",
            "enable_safety_checker": False,
        },
    )


@pytest.mark.parametrize(
    ("model", "data", "field", "needle"),
    [
        ("fal-ai/flux/schnell", {"prompt": " "}, "prompt", "empty"),
        ("fal-ai/flux/schnell", {"prompt": "x", "strength": 1}, "strength", "does not take"),
        (
            "fal-ai/flux-pro/v1.1",
            {"prompt": "x", "guidance_scale": 2},
            "guidance_scale",
            "It takes",
        ),
        ("fal-ai/flux/schnell", {"prompt": "x", "num_images": 5}, "num_images", "1 to 4"),
        ("fal-ai/flux/schnell", {"prompt": "x", "num_images": True}, "num_images", "1 to 4"),
        (
            "fal-ai/flux/schnell",
            {"prompt": "x", "num_inference_steps": 13},
            "num_inference_steps",
            "1 to 12",
        ),
        ("fal-ai/flux/dev", {"prompt": "x", "num_inference_steps": 50}, None, None),
        (
            "fal-ai/flux/schnell",
            {"prompt": "x", "image_size": "huge"},
            "image_size",
            "WIDTHxHEIGHT",
        ),
        (
            "fal-ai/flux/schnell",
            {"prompt": "x", "image_size": {"width": 100, "height": 512}},
            "image_size",
            "multiples of 32",
        ),
        (
            "fal-ai/flux/schnell",
            {"prompt": "x", "output_format": "gif"},
            "output_format",
            "jpeg, png",
        ),
        ("fal-ai/flux/schnell", {"prompt": "x", "guidance_scale": 25}, "guidance_scale", "0 to 20"),
        (
            "fal-ai/flux/schnell",
            {"prompt": "x", "enable_safety_checker": "no"},
            "enable_safety_checker",
            "true or false",
        ),
        ("fal-ai/flux-realism", {"prompt": "x", "strength": 2}, "strength", "0 to 1"),
    ],
)
def test_each_refusal_names_the_field(
    model: str, data: dict[str, Any], field: str | None, needle: str | None
) -> None:
    if field is None:
        check_input(_spec(model), data)
        return
    with pytest.raises(InputProblem) as caught:
        check_input(_spec(model), data)
    assert caught.value.field == field
    assert needle is not None and needle in str(caught.value)


def test_image_to_image_model_needs_no_prompt() -> None:
    check_input(_spec("fal-ai/flux-pro/v1.1/redux"), {"image_url": "https://x/y.png"})


def test_unknown_model_uses_the_served_catalog_then_refuses() -> None:
    catalog = [{"id": "acme/new", "key_params": ["prompt", "seed"]}]
    spec = model_from_catalog("acme/new", catalog)
    assert spec.key_params == ("prompt", "seed")
    with pytest.raises(InputProblem, match=r"Unknown model 'acme/old'\. Allowed: acme/new"):
        model_from_catalog("acme/old", catalog)


def test_param_values_and_sizes() -> None:
    assert parse_param_value("0.4") == 0.4
    assert parse_param_value("true") is True
    assert parse_param_value("off") is False
    assert parse_param_value('{"width": 512, "height": 512}') == {"width": 512, "height": 512}
    assert parse_param_value("realistic_image") == "realistic_image"
    assert parse_image_size("768x512") == {"width": 768, "height": 512}
    assert parse_image_size("square") == "square"
    assert pixel_size({"image_size": "landscape_16_9"}) == (1024, 576)
    assert pixel_size({}) == (1024, 1024)
