"""Input checks run before anything is sent, against the model catalog the API itself serves.

The catalog says which ``input`` keys a model takes (``key_params``); the value rules come from
the contract (``docs/api.md``, and what the embedded server enforces: ``docs/client.md`` lists
them). The block of constants below is the one place the client states the contract's limits;
the parser, the run layer and the validator all read them from here. Errors are short, name the
field and say what is allowed. The client never imports the embedded server's code: both follow
the contract, so one cannot hide the other's bug (a test walks the server's rules and checks this
module refuses every body the server would).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from naive_nb.client._types import JOB_STATUSES, ModelInfo
from naive_nb.errors import InvalidModelError, ValidationError

__all__ = [
    "COLOR_CHANNEL",
    "DEFAULT_MODEL",
    "DOCUMENTED_MODELS",
    "GUIDANCE",
    "IMAGE_SIZES",
    "IMAGE_URL_SCHEMES",
    "MAX_COLORS",
    "MAX_PROMPT_CHARS",
    "NUM_IMAGES",
    "OUTPUT_FORMATS",
    "RANDOM_SEED_LIMIT",
    "RECRAFT_STYLES",
    "SEED_MAX",
    "SIDE",
    "SIDE_MULTIPLE",
    "STEPS",
    "STEPS_BY_MODEL",
    "STRENGTH",
    "documented_model",
    "image_dimensions",
    "steps_range",
    "validate_input",
    "validate_job_filter",
    "validate_model",
    "validate_num_images",
    "validate_values",
]

# ---- the contract's limits: the one place the client states them ---------------------------
IMAGE_SIZES: dict[str, tuple[int, int]] = {  # presets and their pixel sizes (fal's convention)
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
SIDE = (256, 2048)  # an {"width", "height"} image_size: each side in this range...
SIDE_MULTIPLE = 32  # ...and a multiple of this
MAX_PROMPT_CHARS = 4000  # prompt and negative_prompt
NUM_IMAGES = (1, 4)
SEED_MAX = 2**32 - 1  # seeds from 0 to this
RANDOM_SEED_LIMIT = 2**31  # seeds chosen for the user stay below: they fit every provider's int
STEPS = (1, 50)  # num_inference_steps of a model not listed in STEPS_BY_MODEL
STEPS_BY_MODEL: dict[str, tuple[int, int]] = {
    "fal-ai/flux/schnell": (1, 12),
    "fal-ai/flux/dev": (1, 50),
}
GUIDANCE = (0, 20)
STRENGTH = (0, 1)
OUTPUT_FORMATS = ("jpeg", "png")
RECRAFT_STYLES = ("realistic_image", "digital_illustration", "vector_illustration", "any")
MAX_COLORS = 5  # Recraft's colors: a list of up to this many {"r", "g", "b"}...
COLOR_CHANNEL = (0, 255)  # ...each channel an integer in this range
IMAGE_URL_SCHEMES = ("http://", "https://", "data:")

_FLUX = ("prompt", "image_size", "num_images", "seed")
#: The model used when a call names none: the documented catalog's default.
DEFAULT_MODEL = "fal-ai/flux/schnell"
#: The documented catalog (``docs/api.md``, ``GET /v1/images/models``). Used where a request to
#: the served catalog is not wanted: offline mode, and checking a cached re-run (zero requests).
#: Whatever the server lists wins when it is asked (a model or parameter added later works).
DOCUMENTED_MODELS: list[ModelInfo] = [
    ModelInfo(
        DEFAULT_MODEL,
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
    return STEPS_BY_MODEL.get(model, STEPS)


def _bad(
    field: str,
    message: str,
    rule: str,
    value: Any = None,
    allowed: Any = None,
    *,
    model: str | None = None,
) -> ValidationError:
    """A refusal, with its parts (``rule``: see :class:`ValidationError`)."""
    return ValidationError(
        message, field=field, allowed=allowed, rule=rule, value=value, model=model
    )


def _shown(value: object, limit: int = 40) -> str:
    """A value as an error shows it: its repr, cut short (a prompt may be 100,000 characters)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


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
        f"Unknown model {model!r}. Allowed: {', '.join(ids)}",
        field="model",
        allowed=ids,
        rule="unknown_model",
        value=model,
    )


def validate_input(info: ModelInfo, data: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` naming the first offending field of ``data``."""
    if not isinstance(data, dict):
        raise _bad("input", "input must be a dict with at least a prompt", "input", data)
    allowed = list(info.key_params)
    for name in data:
        if allowed and name not in allowed:
            raise _bad(
                f"input.{name}",
                f"{info.id} does not take {name!r}. Allowed: {', '.join(allowed)}",
                "not_taken",
                data[name],
                allowed,
                model=info.id,
            )
    required = ["image_url"] if info.mode == "image-to-image" else ["prompt"]
    for name in required:
        if name not in data:
            raise _bad(
                f"input.{name}",
                f"input.{name} is required for {info.id}",
                "required",
                model=info.id,
            )
    validate_values(info.id, data)


def validate_values(model: str, data: Mapping[str, Any]) -> None:
    """Check each value of ``data`` against the contract's rule for its key.

    Needs no catalog (so no request): the client runs it first, and bad values are refused
    before even the catalog is fetched. Keys without a rule are left to :func:`validate_input`.
    """
    for name, value in data.items():
        _check(model, name, value)


def _check(model: str, name: str, value: Any) -> None:
    where = f"input.{name}"
    if name in ("prompt", "negative_prompt"):
        _check_text(where, value, required=name == "prompt")
    elif name == "image_size":
        _check_size(value)
    elif name == "num_images":
        _check_range(where, value, NUM_IMAGES, integer=True)
    elif name == "seed":
        _check_range(where, value, (0, SEED_MAX), integer=True)
    elif name == "num_inference_steps":
        _check_range(where, value, steps_range(model), integer=True, model=model)
    elif name == "guidance_scale":
        _check_range(where, value, GUIDANCE, integer=False)
    elif name == "strength":
        _check_range(where, value, STRENGTH, integer=False)
    elif name == "output_format":
        _check_choice(where, value, OUTPUT_FORMATS)
    elif name == "style":
        _check_choice(where, value, RECRAFT_STYLES)
    elif name == "enable_safety_checker":
        if not isinstance(value, bool):
            raise _bad(
                where, f"{where} must be True or False, got {_shown(value)}", "boolean", value
            )
    elif name == "colors":
        _check_colors(value)
    elif name == "image_url" and (
        not isinstance(value, str) or not value.startswith(IMAGE_URL_SCHEMES)
    ):
        raise _bad(
            where,
            f"{where} must be an http(s) or data: URL, got {_shown(value)}",
            "url",
            value,
            IMAGE_URL_SCHEMES,
        )


def _check_text(where: str, value: Any, *, required: bool) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad(where, f"{where} must be a non-empty string, got {_shown(value)}", "text", value)
    if len(value) > MAX_PROMPT_CHARS:
        raise _bad(
            where,
            f"{where} must be at most {MAX_PROMPT_CHARS} characters, got {len(value)}",
            "max_length",
            value,
            MAX_PROMPT_CHARS,
        )


def _check_range(
    where: str, value: Any, bounds: tuple[int, int], *, integer: bool, model: str | None = None
) -> None:
    low, high = bounds
    fits = _is_int(value) if integer else _is_number(value)
    if fits and low <= value <= high:
        return
    kind = "an integer" if integer else "a number"
    scope = f" for {model}" if model else ""
    raise _bad(
        where,
        f"{where} must be {kind} from {low} to {high}{scope}, got {_shown(value)}",
        "integer" if integer else "number",
        value,
        bounds,
        model=model,
    )


def _check_choice(where: str, value: Any, choices: tuple[str, ...]) -> None:
    if isinstance(value, str) and value in choices:
        return
    named = [repr(choice) for choice in choices]
    listed = " or ".join(named) if len(named) == 2 else f"one of {', '.join(named)}"
    raise _bad(
        where, f"{where} must be {listed}, got {_shown(value)}", "choice", value, list(choices)
    )


def _check_size(value: Any) -> None:
    if isinstance(value, str) and value in IMAGE_SIZES:
        return
    if isinstance(value, dict) and set(value) == {"width", "height"}:
        low, high = SIDE
        sides = (value["width"], value["height"])
        if all(_is_int(v) and low <= v <= high and v % SIDE_MULTIPLE == 0 for v in sides):
            return
    presets = list(IMAGE_SIZES)
    raise _bad(
        "input.image_size",
        f"input.image_size must be one of {', '.join(presets)}, or "
        f'{{"width": W, "height": H}} in multiples of {SIDE_MULTIPLE} from {SIDE[0]} to {SIDE[1]}; '
        f"got {_shown(value)}",
        "image_size",
        value,
        presets,
    )


def _check_colors(value: Any) -> None:
    where = "input.colors"
    low, high = COLOR_CHANNEL
    shape = f'{{"r": R, "g": G, "b": B}} with integers from {low} to {high}'
    # a tuple is sent as a JSON list, which the API takes
    if not isinstance(value, (list, tuple)):
        raise _bad(
            where,
            f"{where} must be a list of up to {MAX_COLORS} colours {shape}, got {_shown(value)}",
            "colors",
            value,
        )
    if len(value) > MAX_COLORS:
        raise _bad(
            where,
            f"{where} takes at most {MAX_COLORS} colours, got {len(value)}",
            "colors",
            value,
            MAX_COLORS,
        )
    for index, colour in enumerate(value):
        fits = (
            isinstance(colour, dict)
            and set(colour) == {"r", "g", "b"}
            and all(_is_int(c) and low <= c <= high for c in colour.values())
        )
        if not fits:
            raise _bad(
                where, f"{where}[{index}] must be {shape}, got {_shown(colour)}", "colors", value
            )


def validate_job_filter(status: str | None, limit: int) -> None:
    """The arguments of a job listing (``AsyncClient.jobs``)."""
    if status is not None and status not in JOB_STATUSES:
        raise ValidationError(
            f"status must be one of {', '.join(JOB_STATUSES)}, got {status!r}",
            field="status",
            allowed=list(JOB_STATUSES),
            rule="choice",
            value=status,
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValidationError(
            f"limit must be an integer from 1 to 100, got {limit!r}",
            field="limit",
            allowed=(1, 100),
            rule="integer",
            value=limit,
        )


def validate_num_images(num_images: int) -> None:
    """A price request's image count (``AsyncClient.pricing``)."""
    low, high = NUM_IMAGES
    if not _is_int(num_images) or not low <= num_images <= high:
        raise ValidationError(
            f"num_images must be an integer from {low} to {high}, got {num_images!r}",
            field="num_images",
            allowed=NUM_IMAGES,
            rule="integer",
            value=num_images,
        )


def image_dimensions(size: object) -> tuple[int, int] | None:
    """Pixel size of an ``image_size`` value, when it is known."""
    if isinstance(size, str):
        return IMAGE_SIZES.get(size)
    if isinstance(size, dict) and _is_int(size.get("width")) and _is_int(size.get("height")):
        return int(size["width"]), int(size["height"])
    return None
