"""Turning what a user typed into request values, and the problems found while planning a run.

Checking a request against a model is not done here: the client's :mod:`naive_nb.client._validation`
is the one validator and holds the one documented catalog, so the magic refuses exactly what
``Client.submit`` would refuse, before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from naive_nb.client._validation import image_dimensions


class InputProblem(ValueError):
    """A run refused while planning it (e.g. too many sweep axes); ``field`` names the option."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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
