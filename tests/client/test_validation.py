from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._types import ModelInfo
from naive_nb.client._validation import (
    DOCUMENTED_MODELS,
    RANDOM_SEED_LIMIT,
    SEED_MAX,
    documented_model,
    validate_input,
    validate_model,
)
from naive_nb.errors import InvalidModelError, ValidationError

from .conftest import MODELS, FakeAPI

CATALOG = [ModelInfo.from_api(m) for m in MODELS["models"]]
SCHNELL, PRO, RECRAFT = CATALOG


@pytest.mark.parametrize(
    ("info", "data", "field", "says"),
    [
        (SCHNELL, {}, "input.prompt", "required"),
        (SCHNELL, {"prompt": "  "}, "input.prompt", "non-empty"),
        (SCHNELL, {"prompt": "x", "foo": 1}, "input.foo", "Allowed: prompt, image_size"),
        (PRO, {"prompt": "x", "guidance_scale": 3}, "input.guidance_scale", "does not take"),
        (
            SCHNELL,
            {"prompt": "x", "num_inference_steps": 13},
            "input.num_inference_steps",
            "1 to 12",
        ),
        (SCHNELL, {"prompt": "x", "num_images": 5}, "input.num_images", "1 to 4"),
        (SCHNELL, {"prompt": "x", "seed": True}, "input.seed", "integer"),
        (SCHNELL, {"prompt": "x", "seed": -1}, "input.seed", "integer"),
        (SCHNELL, {"prompt": "x", "image_size": "huge"}, "input.image_size", "square_hd"),
        (
            SCHNELL,
            {"prompt": "x", "image_size": {"width": 1000, "height": 512}},
            "input.image_size",
            "32",
        ),
        (
            SCHNELL,
            {"prompt": "x", "output_format": "gif"},
            "input.output_format",
            "'jpeg' or 'png'",
        ),
        (SCHNELL, {"prompt": "x", "guidance_scale": 99}, "input.guidance_scale", "0 to 20"),
        (
            SCHNELL,
            {"prompt": "x", "enable_safety_checker": "no"},
            "input.enable_safety_checker",
            "True or False",
        ),
        (RECRAFT, {"prompt": "x", "seed": 1}, "input.seed", "does not take"),
    ],
)
def test_bad_input_names_the_field_and_what_is_allowed(
    info: ModelInfo, data: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(info, data)
    assert exc.value.field == field
    assert says in str(exc.value)
    assert len(str(exc.value)) < 300  # short enough for a notebook


@pytest.mark.parametrize(
    "data",
    [
        {"prompt": "a cat"},
        {"prompt": "a cat", "image_size": {"width": 768, "height": 512}, "seed": 2**32 - 1},
        {"prompt": "a cat", "num_images": 4, "num_inference_steps": 12, "guidance_scale": 3.5},
        {"prompt": "a cat", "output_format": "png", "enable_safety_checker": False},
    ],
)
def test_good_input_passes(data: dict[str, Any]) -> None:
    assert validate_input(SCHNELL, data) is None  # no refusal


def test_unknown_model_lists_the_catalog() -> None:
    with pytest.raises(InvalidModelError) as exc:
        validate_model("fal-ai/flux/pro", CATALOG)
    assert exc.value.field == "model"
    assert "fal-ai/flux/schnell" in str(exc.value)


async def test_nothing_is_sent_for_bad_input(
    fake_api: FakeAPI, mock_client: Callable[..., AsyncClient]
) -> None:
    async with mock_client() as client:
        with pytest.raises(ValidationError):
            await client.submit("fal-ai/flux/schnell", {"prompt": "x", "steps": 4})
        with pytest.raises(ValidationError):
            await client.generate("x", model="fal-ai/flux-pro/v1.1", guidance_scale=2)
        with pytest.raises(InvalidModelError):
            await client.generate("x", model="nope")
        with pytest.raises(ValidationError):
            await client.jobs(status="done")
    # only the catalog was fetched, once (it is cached per client)
    assert [r.url.path for r in fake_api.requests] == ["/v1/images/models"]


def test_the_documented_catalog_is_the_one_the_embedded_server_serves() -> None:
    # one documented catalog on the client side, used without a request (offline, cache hits)
    from naive_nb.local.catalog import MODELS as SERVED

    served = [ModelInfo.from_api(m.describe()) for m in SERVED.values()]
    assert [(m.id, m.mode, m.key_params, m.default) for m in DOCUMENTED_MODELS] == [
        (m.id, m.mode, m.key_params, m.default) for m in served
    ]
    assert documented_model("fal-ai/recraft-v3") is not None
    assert documented_model("acme/new") is None


def test_image_to_image_needs_its_image_and_no_prompt() -> None:
    redux = documented_model("fal-ai/flux-pro/v1.1/redux")
    assert redux is not None
    validate_input(redux, {"image_url": "https://x/y.png"})
    with pytest.raises(ValidationError) as exc:
        validate_input(redux, {"prompt": "a fox"})
    assert exc.value.field == "input.image_url"


def test_seed_limits() -> None:
    assert SEED_MAX == 2**32 - 1
    assert RANDOM_SEED_LIMIT == 2**31  # chosen seeds fit every provider's integer type
