"""What a user typed, turned into request values (checking them is the client's validator's job)."""

from __future__ import annotations

import naive_nb.run.params as params
from naive_nb.run.params import parse_image_size, parse_param_value, pixel_size


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


def test_the_run_layer_keeps_no_second_validator_or_catalog() -> None:
    for name in ("KNOWN_MODELS", "check_input", "_check_value", "IMAGE_SIZES", "SEED_MAX"):
        assert not hasattr(params, name), name
