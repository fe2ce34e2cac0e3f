"""The controls of one model, generated from its ``key_params``, and the values they send.

Each input key a model takes (apart from the prompt and the seed, which the panel always has)
becomes one control (:class:`ControlSpec`): an enum a dropdown, a bounded number a bounded
input (the front end keeps a typed value within the contract's range), a boolean a checkbox,
text a text field; a key the panel has no rule for (a model the server added since) a text field
read as JSON when it parses. The range and the default are in each control's tooltip.

A control sends its value only when it differs from the value it starts at, so an untouched
panel asks exactly what ``%naive PROMPT`` asks (the settings' defaults for size, images and
format, the model's own for the rest) and shares its cache entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from naive_nb.notebook.panel.errors import PanelInputError
from naive_nb.notebook.panel.widgetset import WidgetSet
from naive_nb.notebook.panel.words import label_of

if TYPE_CHECKING:  # pragma: no cover
    import ipywidgets

    from naive_nb.client import ModelInfo
    from naive_nb.run import Settings

__all__ = ["ControlSpec", "ModelControls", "specs_for"]

#: keys the panel shows with controls of its own (the prompt box, the seeds field)
OWN_CONTROLS = ("prompt", "seed")
#: num_inference_steps where the contract (or fal, for FLUX Dev) documents its default
DEFAULT_STEPS = {"fal-ai/flux/schnell": 4, "fal-ai/flux/dev": 28}
#: guidance_scale's documented default (FLUX Schnell / Dev)
DEFAULT_GUIDANCE = 3.5
UNSET = ""  # a dropdown's "the model's own default" choice: nothing is sent
_HEX = re.compile(r"#?([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})")


@dataclass(frozen=True)
class ControlSpec:
    """One input key as a control: ``kind`` is ``choice``, ``int``, ``float``, ``bool``,
    ``text``, ``colors`` or ``json``; ``default`` the value it starts at (a value equal to it is
    not sent); ``documented``: whether that default is the API's (else it is only a starting
    point, and the model's own default applies while it is left there)."""

    key: str
    kind: str
    default: Any
    choices: tuple[tuple[str, Any], ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    documented: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        return label_of(self.key)

    @property
    def tooltip(self) -> str:
        """What the control takes and what it starts at (shown on hover)."""
        parts = [f"{self.label} ({self.key})"]
        if self.low is not None and self.high is not None:
            parts.append(f"from {_show(self.low)} to {_show(self.high)}")
        elif self.choices:
            parts.append("one of " + ", ".join(str(v) for _, v in self.choices if v != UNSET))
        if self.note:
            parts.append(self.note)
        if self.kind in ("text", "colors", "json") or self.default == UNSET:
            parts.append("left empty, it is not sent: the model's own default applies")
        elif self.documented:
            parts.append(f"default {_show(self.default)}")
        else:
            parts.append(
                f"starts at {_show(self.default)}; left there, it is not sent and the model's "
                "own default applies"
            )
        return "; ".join(parts) + "."


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def specs_for(info: ModelInfo, settings: Settings) -> list[ControlSpec]:
    """The controls of ``info``'s ``key_params``, in the catalog's order."""
    return [_spec(key, info, settings) for key in info.key_params if key not in OWN_CONTROLS]


def _spec(key: str, info: ModelInfo, settings: Settings) -> ControlSpec:
    from naive_nb.client import (
        GUIDANCE,
        IMAGE_SIZES,
        MAX_COLORS,
        NUM_IMAGES,
        OUTPUT_FORMATS,
        RECRAFT_STYLES,
        STRENGTH,
        steps_range,
    )

    if key == "image_size":
        sizes = tuple((f"{name} ({w}x{h})", name) for name, (w, h) in IMAGE_SIZES.items())
        return ControlSpec(key, "choice", settings.image_size, sizes)
    if key == "num_images":
        low, high = NUM_IMAGES
        return ControlSpec(key, "int", settings.num_images, low=low, high=high, step=1)
    if key == "num_inference_steps":
        low, high = steps_range(info.id)
        default = DEFAULT_STEPS.get(info.id, low)
        documented = info.id == "fal-ai/flux/schnell"
        return ControlSpec(key, "int", default, low=low, high=high, step=1, documented=documented)
    if key == "guidance_scale":
        low, high = GUIDANCE
        documented = info.id in ("fal-ai/flux/schnell", "fal-ai/flux/dev")
        return ControlSpec(
            key, "float", DEFAULT_GUIDANCE, low=low, high=high, step=0.5, documented=documented
        )
    if key == "strength":
        low, high = STRENGTH
        return ControlSpec(
            key, "float", float(high), low=low, high=high, step=0.05, documented=False
        )
    if key == "output_format":
        formats = (
            (f"model default ({OUTPUT_FORMATS[0]})", UNSET),
            *((name, name) for name in OUTPUT_FORMATS),
        )
        return ControlSpec(key, "choice", settings.output_format or UNSET, formats)
    if key == "style":
        styles = (("model default", UNSET), *((name, name) for name in RECRAFT_STYLES))
        return ControlSpec(key, "choice", UNSET, styles)
    if key == "enable_safety_checker":
        return ControlSpec(key, "bool", True)
    if key == "colors":
        return ControlSpec(
            key, "colors", "", note=f"up to {MAX_COLORS} colours, e.g. #ff8800, #003366"
        )
    if key in ("negative_prompt", "image_url"):
        return ControlSpec(key, "text", "")
    return ControlSpec(key, "json", "", note="a number, true/false, JSON, or text")


class ModelControls:
    """The widgets of one model's controls, each with an error line under it."""

    def __init__(self, specs: list[ControlSpec]) -> None:
        import ipywidgets as widgets

        self.made = make = WidgetSet()
        self.specs = {spec.key: spec for spec in specs}
        self.inputs: dict[str, ipywidgets.ValueWidget] = {}
        self.errors: dict[str, ipywidgets.HTML] = {}
        boxes = []
        for spec in specs:
            control = _widget(spec, make, widgets)
            error = make(widgets.HTML, value="", layout=widgets.Layout(display="none"))
            self.inputs[spec.key] = control
            self.errors[spec.key] = error
            boxes.append(make(widgets.VBox, [control, error], layout=_box_layout(spec, widgets)))
        self.box = make(
            widgets.Box, boxes, layout=widgets.Layout(display="flex", flex_flow="row wrap")
        )

    def params(self) -> dict[str, Any]:
        """The values that differ from where each control starts (the request's ``params``)."""
        params: dict[str, Any] = {}
        for key, spec in self.specs.items():
            value = _read(spec, self.inputs[key].value)
            if value is not None and value != spec.default:
                params[key] = value
        return params

    def restore(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Set every control from ``params`` (absent keys: where it starts); returns the
        params no control of this model takes."""
        left = dict(params)
        for key, spec in self.specs.items():
            value = left.pop(key, spec.default)
            if spec.kind == "choice" and value not in [v for _, v in spec.choices]:
                left[key] = value  # e.g. a WIDTHxHEIGHT size: no choice of the dropdown
                value = spec.default
            self.inputs[key].value = _shown(spec, value)
        return left

    def close(self) -> None:
        self.made.close()


def _box_layout(spec: ControlSpec, widgets: Any) -> Any:
    wide = spec.kind in ("text", "colors", "json")
    return widgets.Layout(
        width="100%" if spec.key == "negative_prompt" else ("330px" if wide else "250px")
    )


def _widget(spec: ControlSpec, make: Any, widgets: Any) -> Any:
    common = {
        "description": spec.label,
        "tooltip": spec.tooltip,
        "style": {"description_width": "90px"},
        "layout": widgets.Layout(width="98%"),
    }
    if spec.kind == "choice":
        return make(widgets.Dropdown, options=list(spec.choices), value=spec.default, **common)
    if spec.kind == "int":
        return make(
            widgets.BoundedIntText,
            value=spec.default,
            min=int(spec.low or 0),
            max=int(spec.high or 0),
            step=1,
            **common,
        )
    if spec.kind == "float":
        return make(
            widgets.BoundedFloatText,
            value=spec.default,
            min=spec.low,
            max=spec.high,
            step=spec.step,
            **common,
        )
    if spec.kind == "bool":
        return make(widgets.Checkbox, value=spec.default, indent=False, **common)
    if spec.key == "negative_prompt":
        return make(widgets.Textarea, value="", rows=2, placeholder="what to leave out", **common)
    placeholder = spec.note.split("e.g. ")[-1] if spec.kind == "colors" else ""
    return make(widgets.Text, value="", placeholder=placeholder, **common)


def _read(spec: ControlSpec, raw: Any) -> Any:
    """The request value of a control's raw value; None: nothing to send."""
    if spec.kind == "choice":
        return None if raw == UNSET else raw
    if spec.kind == "int":
        return int(raw)
    if spec.kind == "float":
        return float(raw)
    if spec.kind == "bool":
        return bool(raw)
    text = str(raw).strip()
    if not text:
        return None
    if spec.kind == "colors":
        return _colors(spec, text)
    if spec.kind == "json":
        from naive_nb.run.params import parse_param_value

        return parse_param_value(text)
    return text


def _colors(spec: ControlSpec, text: str) -> list[dict[str, int]]:
    colours = []
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        match = _HEX.fullmatch(part)
        if match is None:
            raise PanelInputError(
                spec.key, f"{spec.label}: {part!r} is not a colour; write them as #rrggbb, #rrggbb."
            )
        red, green, blue = (int(channel, 16) for channel in match.groups())
        colours.append({"r": red, "g": green, "b": blue})
    return colours


def _shown(spec: ControlSpec, value: Any) -> Any:
    """A request value as its control shows it."""
    if spec.kind == "choice":
        return UNSET if value is None else value
    if spec.kind in ("int", "float", "bool"):
        return value
    if spec.kind == "colors" and isinstance(value, list):
        return ", ".join(f"#{c['r']:02x}{c['g']:02x}{c['b']:02x}" for c in value)
    if spec.kind == "json" and not isinstance(value, str):
        return json.dumps(value)
    return "" if value is None else str(value)
