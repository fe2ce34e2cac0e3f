"""The model catalog the embedded server serves, and validation of a submit body against it.

Validation is strict on purpose: the hosted API answers unknown keys and bad values with
`400 invalid_input`, and a client that passes here must also pass there. Every message names the
field and what is allowed, because the same text ends up in front of a notebook user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# fal's pixel sizes of the documented presets
IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
DEFAULT_MODEL = "fal-ai/flux/schnell"
OUTPUT_FORMATS = ("jpeg", "png")
RECRAFT_STYLES = ("realistic_image", "digital_illustration", "vector_illustration", "any")
MAX_PROMPT_CHARS = 4000
MAX_SIDE = 2048
MIN_SIDE = 256
# `credit_value_usd` as newer deployments report it; always sent, never assumed by clients
CREDIT_VALUE_USD = 0.05
SEED_MAX = 2**32 - 1


class InputError(ValueError):
    """A submit body the server refuses; `code` is the envelope code, `field` the offending key."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    key_params: tuple[str, ...]
    estimated_seconds: float
    unit_price_usd: float  # provider price per image
    style: str  # which procedural style the renderer uses
    mode: str = "text-to-image"
    steps_range: tuple[int, int] | None = None
    default_steps: int = 4
    required: tuple[str, ...] = ("prompt",)
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "mode": self.mode,
            "key_params": list(self.key_params),
        }
        if self.id == DEFAULT_MODEL:
            body["default"] = True
        return body


_FLUX = ("prompt", "image_size", "num_images", "seed")
MODELS: dict[str, Model] = {
    m.id: m
    for m in (
        Model(
            "fal-ai/flux/schnell",
            "FLUX Schnell (Fast)",
            (
                *_FLUX,
                "num_inference_steps",
                "guidance_scale",
                "enable_safety_checker",
                "output_format",
            ),
            5,
            0.003,
            "flow",
            steps_range=(1, 12),
            default_steps=4,
        ),
        Model(
            "fal-ai/flux/dev",
            "FLUX Dev",
            (*_FLUX, "guidance_scale", "num_inference_steps", "enable_safety_checker"),
            10,
            0.025,
            "orbs",
            steps_range=(1, 50),
            default_steps=28,
        ),
        Model(
            "fal-ai/flux-pro/v1.1",
            "FLUX Pro 1.1 (High Quality)",
            (*_FLUX, "output_format"),
            15,
            0.04,
            "facets",
        ),
        Model(
            "fal-ai/flux-realism",
            "FLUX Realism",
            (*_FLUX, "strength"),
            10,
            0.025,
            "landscape",
        ),
        Model(
            "fal-ai/stable-diffusion-v35-large",
            "SD 3.5 Large",
            (*_FLUX, "guidance_scale", "negative_prompt"),
            12,
            0.065,
            "rings",
        ),
        Model(
            "fal-ai/recraft-v3",
            "Recraft v3",
            ("prompt", "image_size", "style", "colors"),
            10,
            0.04,
            "stripes",
        ),
        Model(
            "fal-ai/flux-pro/v1.1/redux",
            "FLUX Pro 1.1 Redux, image-to-image",
            ("image_url", "prompt", "num_images", "seed"),
            12,
            0.04,
            "facets",
            mode="image-to-image",
            required=("image_url",),
        ),
    )
}


def price_credits(model: Model, num_images: int) -> float:
    """Naive's rule: provider unit price x quantity x 2 (in USD), in credits, floor 0.1 credit."""
    credits = model.unit_price_usd * num_images * 2 / CREDIT_VALUE_USD
    return round(max(0.1, credits), 4)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _bad(field_name: str, message: str) -> InputError:
    return InputError("invalid_input", field_name, message)


def resolve_model(body: dict[str, Any]) -> Model:
    model_id = body.get("model", DEFAULT_MODEL)
    if not isinstance(model_id, str) or model_id not in MODELS:
        allowed = ", ".join(MODELS)
        raise InputError(
            "invalid_model",
            "model",
            f"model {model_id!r} is not in the catalog. Allowed: {allowed}.",
        )
    return MODELS[model_id]


def validate_generate(body: Any) -> tuple[Model, dict[str, Any]]:
    """Check a `POST /v1/images/generate` body; return the model and the input as given."""
    if not isinstance(body, dict):
        raise _bad("body", 'The body must be a JSON object: {"model": ..., "input": {...}}.')
    unknown_top = sorted(set(body) - {"model", "input"})
    if unknown_top:
        raise _bad(unknown_top[0], f"Unknown field {unknown_top[0]!r}; allowed: model, input.")
    model = resolve_model(body)
    data = body.get("input")
    if not isinstance(data, dict):
        raise _bad("input", "input must be a JSON object with at least a prompt.")
    unknown = sorted(set(data) - set(model.key_params))
    if unknown:
        allowed = ", ".join(model.key_params)
        raise _bad(
            f"input.{unknown[0]}",
            f"{model.id} does not take input.{unknown[0]}. Allowed: {allowed}.",
        )
    for name in model.required:
        if name not in data:
            raise _bad(f"input.{name}", f"input.{name} is required for {model.id}.")
    for name, value in data.items():
        _check_value(model, name, value)
    return model, data


def _check_value(model: Model, name: str, value: Any) -> None:
    where = f"input.{name}"
    if name in ("prompt", "negative_prompt"):
        if not isinstance(value, str):
            raise _bad(where, f"{where} must be a string.")
        if name == "prompt" and not value.strip():
            raise _bad(where, f"{where} must not be empty.")
        if len(value) > MAX_PROMPT_CHARS:
            raise _bad(where, f"{where} is longer than {MAX_PROMPT_CHARS} characters.")
    elif name == "image_size":
        _check_image_size(value)
    elif name == "num_images":
        if not _is_int(value) or not 1 <= value <= 4:
            raise _bad(where, f"{where} must be an integer from 1 to 4, got {value!r}.")
    elif name == "seed":
        if not _is_int(value) or not 0 <= value <= SEED_MAX:
            raise _bad(where, f"{where} must be an integer from 0 to {SEED_MAX}, got {value!r}.")
    elif name == "num_inference_steps":
        low, high = model.steps_range or (1, 50)
        if not _is_int(value) or not low <= value <= high:
            raise _bad(
                where,
                f"{where} must be an integer from {low} to {high} for {model.id}, got {value!r}.",
            )
    elif name == "guidance_scale":
        if not _is_number(value) or not 0 <= value <= 20:
            raise _bad(where, f"{where} must be a number from 0 to 20, got {value!r}.")
    elif name == "strength":
        if not _is_number(value) or not 0 <= value <= 1:
            raise _bad(where, f"{where} must be a number from 0 to 1, got {value!r}.")
    elif name == "output_format":
        if value not in OUTPUT_FORMATS:
            raise _bad(
                where, f"{where} must be one of: {', '.join(OUTPUT_FORMATS)}; got {value!r}."
            )
    elif name == "enable_safety_checker":
        if not isinstance(value, bool):
            raise _bad(where, f"{where} must be true or false, got {value!r}.")
    elif name == "style":
        if value not in RECRAFT_STYLES:
            raise _bad(
                where, f"{where} must be one of: {', '.join(RECRAFT_STYLES)}; got {value!r}."
            )
    elif name == "colors":
        _check_colors(value)
    elif name == "image_url" and (
        not isinstance(value, str) or not value.startswith(("http://", "https://", "data:"))
    ):
        raise _bad(where, f"{where} must be an http(s) or data: URL.")


def _check_image_size(value: Any) -> None:
    where = "input.image_size"
    if isinstance(value, str):
        if value not in IMAGE_SIZES:
            raise _bad(where, f"{where} must be one of: {', '.join(IMAGE_SIZES)}; got {value!r}.")
        return
    if isinstance(value, dict) and set(value) == {"width", "height"}:
        width, height = value["width"], value["height"]
        ok = all(_is_int(v) and MIN_SIDE <= v <= MAX_SIDE and v % 32 == 0 for v in (width, height))
        if ok:
            return
    raise _bad(
        where,
        f"{where} must be one of: {', '.join(IMAGE_SIZES)}, or "
        f'{{"width": W, "height": H}} with multiples of 32 from {MIN_SIDE} to {MAX_SIDE}.',
    )


def _check_colors(value: Any) -> None:
    where = "input.colors"
    message = f'{where} must be a list of up to 5 colours like {{"r": 255, "g": 0, "b": 0}}.'
    if not isinstance(value, list) or len(value) > 5:
        raise _bad(where, message)
    for colour in value:
        if not isinstance(colour, dict) or set(colour) != {"r", "g", "b"}:
            raise _bad(where, message)
        if not all(_is_int(c) and 0 <= c <= 255 for c in colour.values()):
            raise _bad(where, message)


def pixel_size(data: dict[str, Any]) -> tuple[int, int]:
    size = data.get("image_size", "square_hd")
    if isinstance(size, dict):
        return int(size["width"]), int(size["height"])
    return IMAGE_SIZES[size]
