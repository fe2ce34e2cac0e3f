"""Input checks run before anything is sent, against the model catalog the API itself serves.

The catalog says which ``input`` keys a model takes (``key_params``); the value rules come from
the contract (``naive-api.md``). Errors are short, name the field and say what is allowed. The
client never imports the embedded server's code: both follow the contract, so one cannot hide the
other's bug.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from naive_nb._types import ModelInfo
from naive_nb.errors import InvalidModelError, ValidationError

__all__ = [
    "DOCUMENTED_MODELS",
    "GUIDANCE",
    "IMAGE_SIZES",
    "NUM_IMAGES",
    "OUTPUT_FORMATS",
    "RANDOM_SEED_LIMIT",
    "SEED_MAX",
    "STEPS",
    "documented_model",
    "image_dimensions",
    "steps_range",
    "validate_input",
    "validate_model",
]

IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
NUM_IMAGES = (1, 4)
STEPS = (1, 50)  # num_inference_steps of any model not listed in _STEPS
GUIDANCE = (0, 20)
_STEPS = {"fal-ai/flux/schnell": (1, 12)}
SEED_MAX = 2**32 - 1  # what the API accepts
RANDOM_SEED_LIMIT = 2**31  # seeds chosen for the user stay below: they fit every provider's int
_SIDE = (256, 2048)
OUTPUT_FORMATS = ("jpeg", "png")
_FORMATS = OUTPUT_FORMATS

_FLUX = ("prompt", "image_size", "num_images", "seed")
#: The documented catalog (``naive-api.md``, ``GET /v1/images/models``). Used where a request to
#: the served catalog is not wanted: offline mode, and checking a cached re-run (zero requests).
#: Whatever the server lists wins when it is asked (a model or parameter added later works).
DOCUMENTED_MODELS: list[ModelInfo] = [
    ModelInfo(
        "fal-ai/flux/schnell",
        "FLUX Schnell (Fast)",
        key_params=(
            *_FLUX,
            "num_inference_steps",
            "guidance_scale",
            "enable_safety_checker",
            "output_format",
        ),
        default=True,
    ),
    ModelInfo(
        "fal-ai/flux/dev",
        "FLUX Dev",
        key_params=(*_FLUX, "guidance_scale", "num_inference_steps", "enable_safety_checker"),
    ),
    ModelInfo(
        "fal-ai/flux-pro/v1.1", "FLUX Pro 1.1 (High Quality)", key_params=(*_FLUX, "output_format")
    ),
    ModelInfo("fal-ai/flux-realism", "FLUX Realism", key_params=(*_FLUX, "strength")),
    ModelInfo(
        "fal-ai/stable-diffusion-v35-large",
        "SD 3.5 Large",
        key_params=(*_FLUX, "guidance_scale", "negative_prompt"),
    ),
    ModelInfo(
        "fal-ai/recraft-v3", "Recraft v3", key_params=("prompt", "image_size", "style", "colors")
    ),
    ModelInfo(
        "fal-ai/flux-pro/v1.1/redux",
        "FLUX Pro 1.1 Redux, image-to-image",
        mode="image-to-image",
        key_params=("image_url", "prompt", "num_images", "seed"),
    ),
]


def documented_model(model: str) -> ModelInfo | None:
    """The documented catalog's entry for ``model`` (None for a model it does not list)."""
    return next((info for info in DOCUMENTED_MODELS if info.id == model), None)


def steps_range(model: str) -> tuple[int, int]:
    """The allowed ``num_inference_steps`` of ``model``."""
    return _STEPS.get(model, STEPS)


def _bad(field: str, message: str, allowed: Any = None) -> ValidationError:
    return ValidationError(message, field=field, allowed=allowed)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)  # type: ignore[arg-type]


def validate_model(model: str, catalog: Sequence[ModelInfo]) -> ModelInfo:
    for info in catalog:
        if info.id == model:
            return info
    ids = [info.id for info in catalog]
    raise InvalidModelError(
        f"Unknown model {model!r}. Allowed: {', '.join(ids)}", field="model", allowed=ids
    )


def validate_input(info: ModelInfo, data: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` naming the first offending field of ``data``."""
    if not isinstance(data, dict):
        raise _bad("input", "input must be a dict with at least a prompt")
    allowed = list(info.key_params)
    for name in data:
        if allowed and name not in allowed:
            raise _bad(
                f"input.{name}",
                f"{info.id} does not take {name!r}. Allowed: {', '.join(allowed)}",
                allowed,
            )
    required = ["image_url"] if info.mode == "image-to-image" else ["prompt"]
    for name in required:
        if name not in data:
            raise _bad(f"input.{name}", f"input.{name} is required for {info.id}")
    for name, value in data.items():
        _check(info, name, value)


def _check(info: ModelInfo, name: str, value: Any) -> None:
    where = f"input.{name}"
    if name in ("prompt", "negative_prompt"):
        if not isinstance(value, str) or (name == "prompt" and not value.strip()):
            raise _bad(where, f"{where} must be a non-empty string")
    elif name == "image_size":
        _check_size(value)
    elif name == "num_images":
        low, high = NUM_IMAGES
        if not _is_int(value) or not low <= value <= high:
            raise _bad(
                where, f"{where} must be an integer from {low} to {high}, got {value!r}", NUM_IMAGES
            )
    elif name == "seed":
        if not _is_int(value) or not 0 <= value <= SEED_MAX:
            raise _bad(where, f"{where} must be an integer from 0 to {SEED_MAX}, got {value!r}")
    elif name == "num_inference_steps":
        low, high = steps_range(info.id)
        if not _is_int(value) or not low <= value <= high:
            raise _bad(
                where,
                f"{where} must be an integer from {low} to {high} for {info.id}, got {value!r}",
                (low, high),
            )
    elif name == "guidance_scale":
        low, high = GUIDANCE
        if not _is_number(value) or not low <= value <= high:
            raise _bad(
                where, f"{where} must be a number from {low} to {high}, got {value!r}", GUIDANCE
            )
    elif name == "strength":
        if not _is_number(value) or not 0 <= value <= 1:
            raise _bad(where, f"{where} must be a number from 0 to 1, got {value!r}", (0, 1))
    elif name == "output_format":
        if value not in _FORMATS:
            raise _bad(where, f"{where} must be 'jpeg' or 'png', got {value!r}", list(_FORMATS))
    elif name == "enable_safety_checker":
        if not isinstance(value, bool):
            raise _bad(where, f"{where} must be True or False, got {value!r}")
    elif name == "image_url" and (
        not isinstance(value, str) or not value.startswith(("http://", "https://", "data:"))
    ):
        raise _bad(where, f"{where} must be an http(s) or data: URL")


def _check_size(value: Any) -> None:
    if isinstance(value, str) and value in IMAGE_SIZES:
        return
    if isinstance(value, dict) and set(value) == {"width", "height"}:
        low, high = _SIDE
        sides = (value["width"], value["height"])
        if all(_is_int(v) and low <= v <= high and v % 32 == 0 for v in sides):
            return
    presets = list(IMAGE_SIZES)
    raise _bad(
        "input.image_size",
        f"input.image_size must be one of {', '.join(presets)}, or "
        f'{{"width": W, "height": H}} in multiples of 32 from {_SIDE[0]} to {_SIDE[1]}; '
        f"got {value!r}",
        presets,
    )


def image_dimensions(size: object) -> tuple[int, int] | None:
    """Pixel size of an ``image_size`` value, when it is known."""
    if isinstance(size, str):
        return IMAGE_SIZES.get(size)
    if isinstance(size, dict) and _is_int(size.get("width")) and _is_int(size.get("height")):
        return int(size["width"]), int(size["height"])
    return None
