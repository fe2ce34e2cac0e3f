"""Validation of a generation request before anything is sent.

The hosted API answers bad input with ``400 invalid_input`` after a network round trip (and a
sweep would fail on its first job only). Here every value is checked up front against the model's
``key_params`` and the documented ranges, and each message names the field and what is allowed.

The catalog below is the documented one (``naive-api.md``); a model it does not know is checked
against the ``key_params`` the server's catalog lists, with only type checks for its values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_MODEL = "fal-ai/flux/schnell"
IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
OUTPUT_FORMATS = ("jpeg", "png")
SEED_MAX = 2**32 - 1

_FLUX = ("prompt", "image_size", "num_images", "seed")
# documented catalog: id -> (key_params, allowed steps)
KNOWN_MODELS: dict[str, tuple[tuple[str, ...], tuple[int, int] | None]] = {
    "fal-ai/flux/schnell": (
        (
            *_FLUX,
            "num_inference_steps",
            "guidance_scale",
            "enable_safety_checker",
            "output_format",
        ),
        (1, 12),
    ),
    "fal-ai/flux/dev": (
        (*_FLUX, "guidance_scale", "num_inference_steps", "enable_safety_checker"),
        (1, 50),
    ),
    "fal-ai/flux-pro/v1.1": ((*_FLUX, "output_format"), None),
    "fal-ai/flux-realism": ((*_FLUX, "strength"), None),
    "fal-ai/stable-diffusion-v35-large": ((*_FLUX, "guidance_scale", "negative_prompt"), None),
    "fal-ai/recraft-v3": (("prompt", "image_size", "style", "colors"), None),
    "fal-ai/flux-pro/v1.1/redux": (("image_url", "prompt", "num_images", "seed"), None),
}


class InputProblem(ValueError):
    """A request refused before sending; ``field`` is the input key (or ``model``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ModelSpec:
    """What the magic needs to know of a model to check a request for it."""

    id: str
    key_params: tuple[str, ...]
    steps_range: tuple[int, int] | None = None

    @property
    def takes_seed(self) -> bool:
        return "seed" in self.key_params


def known_model(model_id: str) -> ModelSpec | None:
    entry = KNOWN_MODELS.get(model_id)
    if entry is None:
        return None
    return ModelSpec(model_id, entry[0], entry[1])


def model_from_catalog(model_id: str, catalog: Sequence[Mapping[str, Any]] | None) -> ModelSpec:
    """The spec of ``model_id``: documented first, else from the server's ``/v1/images/models``."""
    spec = known_model(model_id)
    if spec is not None:
        return spec
    ids = [str(entry.get("id")) for entry in catalog or ()]
    for entry in catalog or ():
        if entry.get("id") == model_id:
            return ModelSpec(model_id, tuple(str(p) for p in entry.get("key_params", ())))
    allowed = ", ".join(ids or KNOWN_MODELS)
    raise InputProblem(
        "model", f"Unknown model {model_id!r}. Allowed: {allowed}. See %naive models."
    )


def parse_param_value(text: str) -> Any:
    """``--param key=value``: JSON when it parses (numbers, true, {"width": ..}), else a string."""
    try:
        return json.loads(text)
    except ValueError:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on"):
            return True
        if lowered in ("false", "no", "off"):
            return False
        return text


def parse_image_size(text: str) -> str | dict[str, int]:
    """A preset name, or ``WIDTHxHEIGHT`` for the object form fal models accept."""
    if "x" in text and text.replace("x", "", 1).isdigit():
        width, height = (int(v) for v in text.split("x"))
        return {"width": width, "height": height}
    return text


def check_input(spec: ModelSpec, data: Mapping[str, Any]) -> None:
    """Raise :class:`InputProblem` for the first key or value the model does not accept."""
    for name in data:
        if name not in spec.key_params:
            allowed = ", ".join(spec.key_params)
            raise InputProblem(name, f"{spec.id} does not take {name!r}. It takes: {allowed}.")
    if "prompt" in spec.key_params and "image_url" not in spec.key_params:
        prompt = data.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputProblem(
                "prompt",
                "The prompt is empty. Write it after %naive, or in the cell body of %%naive.",
            )
    for name, value in data.items():
        _check_value(spec, name, value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_value(spec: ModelSpec, name: str, value: Any) -> None:
    def bad(allowed: str) -> InputProblem:
        return InputProblem(name, f"{name} must be {allowed}; got {value!r}.")

    if name in ("prompt", "negative_prompt", "image_url") and not isinstance(value, str):
        raise bad("a string")
    if name == "image_size":
        _check_image_size(value)
    elif name == "num_images" and (not _is_int(value) or not 1 <= value <= 4):
        raise bad("an integer from 1 to 4 (--num)")
    elif name == "seed" and (not _is_int(value) or not 0 <= value <= SEED_MAX):
        raise bad(f"an integer from 0 to {SEED_MAX}")
    elif name == "num_inference_steps":
        low, high = spec.steps_range or (1, 50)
        if not _is_int(value) or not low <= value <= high:
            raise bad(f"an integer from {low} to {high} for {spec.id} (--steps)")
    elif name == "guidance_scale" and (not _is_number(value) or not 0 <= value <= 20):
        raise bad("a number from 0 to 20 (--guidance)")
    elif name == "strength" and (not _is_number(value) or not 0 <= value <= 1):
        raise bad("a number from 0 to 1")
    elif name == "output_format" and value not in OUTPUT_FORMATS:
        raise bad(f"one of {', '.join(OUTPUT_FORMATS)} (--format)")
    elif name == "enable_safety_checker" and not isinstance(value, bool):
        raise bad("true or false (--no-safety turns it off)")


def _check_image_size(value: Any) -> None:
    if isinstance(value, str) and value in IMAGE_SIZES:
        return
    if isinstance(value, dict) and set(value) == {"width", "height"}:
        sides = (value["width"], value["height"])
        if all(_is_int(v) and 256 <= v <= 2048 and v % 32 == 0 for v in sides):
            return
    raise InputProblem(
        "image_size",
        f"image_size must be one of {', '.join(IMAGE_SIZES)}, or WIDTHxHEIGHT in multiples of "
        f"32 from 256 to 2048 (e.g. 768x512); got {value!r}.",
    )


def pixel_size(data: Mapping[str, Any]) -> tuple[int, int]:
    """The pixel size a request asks for (fal's preset convention), for labels and estimates."""
    size = data.get("image_size", "square_hd")
    if isinstance(size, dict):
        return int(size["width"]), int(size["height"])
    return IMAGE_SIZES.get(str(size), (1024, 1024))
