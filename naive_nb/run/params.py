"""Turning what a user typed into request values (``-p KEY=VALUE``, ``768x512``), and pixel sizes.

Checking a request against a model is not done here: the client's validator is the one
validator and holds the one documented catalog, so the core refuses exactly what
``Client.submit`` would refuse, before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from naive_nb.client import image_dimensions


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


def pixel_size(data: Mapping[str, Any]) -> tuple[int, int]:
    """The pixel size a request asks for (fal's preset convention), for labels and estimates."""
    return image_dimensions(data.get("image_size", "square_hd")) or (1024, 1024)
