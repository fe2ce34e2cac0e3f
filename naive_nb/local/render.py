"""The local preview engine: a deterministic procedural renderer (Pillow only).

It stands in for a diffusion model, so what matters is that comparisons read like the real thing:
the same model + input + seed gives byte-identical bytes, and each axis a researcher sweeps changes
the picture visibly and in its own way:

- seed      -> the composition (where the shapes sit, their sizes and angles)
- prompt    -> the palette and the motif (the number of polygon sides, the shape mix)
- steps     -> the amount of detail (how many shapes are drawn)
- guidance  -> the contrast
- model     -> the style (flowing lines, orbs, facets, a landscape, rings, stripes)

Everything random comes from `random.Random` seeded by a hash of the request, never from global
state, so renders are reproducible across processes and machines with the same Pillow.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

ENGINE_LABEL = "naive-nb local preview"
# words that make the emulated safety checker flag an image (when it is enabled)
FLAGGED_WORDS = frozenset({"nsfw", "gore", "explicit"})


@dataclass(frozen=True)
class RenderRequest:
    style: str
    prompt: str
    seed: int
    width: int
    height: int
    steps: int = 4
    guidance: float = 3.5
    negative_prompt: str = ""
    extra: str = ""  # anything else that should change the picture (strength, colours, image_url)
    output_format: str = "jpeg"
    safety_checker: bool = True


def _digest(*parts: Any) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def is_flagged(prompt: str) -> bool:
    words = {w.strip(".,;:!?\"'()").lower() for w in prompt.split()}
    return bool(words & FLAGGED_WORDS)


def palette(prompt: str, negative_prompt: str = "") -> list[tuple[int, int, int]]:
    """Five colours from the prompt's words; each word pulls the hue, so near prompts look akin."""
    words = [w.lower() for w in prompt.split() if w.strip()] or [""]
    hues = [int.from_bytes(_digest("word", w)[:2], "big") / 65535 for w in words]
    # a circular mean: an arithmetic one of many random hues always drifts to 0.5 (blue), so
    # every long prompt would look alike; this one stays spread, and shared words pull together
    x = sum(math.cos(2 * math.pi * h) for h in hues)
    y = sum(math.sin(2 * math.pi * h) for h in hues)
    base = (math.atan2(y, x) / (2 * math.pi)) % 1.0
    shift = int.from_bytes(_digest("neg", negative_prompt)[:2], "big") / 65535 * 0.2
    colours = []
    for i in range(5):
        hue = (base + shift + hues[i % len(hues)] * 0.35 + i * 0.13) % 1.0
        sat = 0.45 + 0.5 * ((i * 37 + len(words)) % 10) / 10
        val = 0.35 + 0.6 * ((i * 53 + len(prompt)) % 10) / 10
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def _contrast_lut(guidance: float) -> list[int]:
    # guidance 0 -> washed out, 3.5 -> neutral, 20 -> harsh; one LUT per band is fast at 1024 px
    factor = 0.45 + guidance / 6.0
    return [max(0, min(255, round(128 + (v - 128) * factor))) for v in range(256)] * 3


def render(req: RenderRequest) -> Image.Image:
    """Draw one image. Rendering happens at full size; a 1024x1024 image takes tens of ms."""
    if req.safety_checker and is_flagged(req.prompt):
        return Image.new("RGB", (req.width, req.height), (0, 0, 0))
    colours = palette(req.prompt, req.negative_prompt)
    motif = _digest("motif", req.prompt)
    sides = 3 + motif[0] % 5
    rng = random.Random(_digest("seed", req.style, req.seed, req.extra))
    w, h = req.width, req.height

    # background: a two-colour gradient, drawn tiny and scaled up (cheap and smooth)
    top, bottom = colours[0], colours[1]
    image = Image.new("RGB", (1, 2))
    image.putpixel((0, 0), top)
    image.putpixel((0, 1), bottom)
    image = image.resize((w, h), Image.Resampling.BILINEAR)

    draw = ImageDraw.Draw(image, "RGBA")
    detail = 6 + 3 * max(1, min(req.steps, 50))
    drawer = _STYLES.get(req.style, _orbs)
    drawer(Canvas(draw, rng, w, h, colours, detail, sides))

    image = image.point(_contrast_lut(req.guidance))
    _label(image, w, h)
    return image


@dataclass(frozen=True)
class Canvas:
    """What a style draws with: the surface, its dice, and what the request decided."""

    draw: ImageDraw.ImageDraw
    rng: random.Random
    width: int
    height: int
    colours: list[tuple[int, int, int]]
    detail: int  # how many shapes (from the steps)
    sides: int  # the prompt's motif: sides of its polygons


def _alpha(colour: tuple[int, int, int], a: int) -> tuple[int, int, int, int]:
    return (*colour, a)


def _polygon(cx: float, cy: float, r: float, sides: int, angle: float) -> list[tuple[float, float]]:
    return [
        (
            cx + r * math.cos(angle + 2 * math.pi * k / sides),
            cy + r * math.sin(angle + 2 * math.pi * k / sides),
        )
        for k in range(sides)
    ]


def _orbs(canvas: Canvas) -> None:
    draw, rng, w, h = canvas.draw, canvas.rng, canvas.width, canvas.height
    colours, detail, sides = canvas.colours, canvas.detail, canvas.sides
    for i in range(detail):
        r = rng.uniform(0.02, 0.22) * min(w, h) * (1.0 if i < 8 else 0.45)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        fill = _alpha(colours[2 + i % 3], rng.randint(70, 190))
        if i % 4 == 3:
            draw.polygon(_polygon(x, y, r, sides, rng.uniform(0, 6.3)), fill=fill)
        else:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _facets(canvas: Canvas) -> None:
    draw, rng, w, h = canvas.draw, canvas.rng, canvas.width, canvas.height
    colours, detail, sides = canvas.colours, canvas.detail, canvas.sides
    for i in range(detail):
        r = rng.uniform(0.04, 0.3) * min(w, h) * (1.0 if i < 6 else 0.5)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        points = _polygon(x, y, r, sides, rng.uniform(0, 6.3))
        draw.polygon(points, fill=_alpha(colours[2 + i % 3], rng.randint(90, 220)))
        draw.line([*points, points[0]], fill=_alpha(colours[0], 200), width=2)


def _flow(canvas: Canvas) -> None:
    draw, rng, w, h = canvas.draw, canvas.rng, canvas.width, canvas.height
    colours, detail, sides = canvas.colours, canvas.detail, canvas.sides
    for i in range(detail):
        y0 = rng.uniform(0, h)
        amp = rng.uniform(0.02, 0.15) * h
        freq = rng.uniform(1, 2 + sides) * math.pi / w
        phase = rng.uniform(0, 6.3)
        width = max(2, int(rng.uniform(0.004, 0.03) * h))
        pts = [(x, y0 + amp * math.sin(freq * x + phase)) for x in range(0, w + 16, 16)]
        draw.line(pts, fill=_alpha(colours[2 + i % 3], rng.randint(90, 230)), width=width)
    for _ in range(max(1, detail // 6)):
        r = rng.uniform(0.03, 0.12) * min(w, h)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_alpha(colours[4], 160))


def _landscape(canvas: Canvas) -> None:
    draw, rng, w, h = canvas.draw, canvas.rng, canvas.width, canvas.height
    colours, detail, sides = canvas.colours, canvas.detail, canvas.sides
    sun_r = rng.uniform(0.06, 0.14) * min(w, h)
    sx, sy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.45) * h
    draw.ellipse((sx - sun_r, sy - sun_r, sx + sun_r, sy + sun_r), fill=_alpha(colours[4], 230))
    bands = 3 + detail // 12
    for b in range(bands):
        base = h * (0.45 + 0.5 * b / bands)
        pts = [(0.0, float(h))]
        x = 0.0
        while x <= w:
            pts.append((x, base - rng.uniform(0, 0.12) * h))
            x += w / (4 + sides + b)
        pts += [(float(w), float(h))]
        draw.polygon(pts, fill=_alpha(colours[2 + b % 3], 150 + 80 * b // bands))
    for _ in range(detail):
        x, y = rng.uniform(0, w), rng.uniform(0, 0.5 * h)
        draw.point((x, y), fill=_alpha((255, 255, 255), 200))


def _rings(canvas: Canvas) -> None:
    draw, rng, w, h = canvas.draw, canvas.rng, canvas.width, canvas.height
    colours, detail, sides = canvas.colours, canvas.detail, canvas.sides
    centres = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(1 + sides // 2)]
    for i in range(detail):
        cx, cy = centres[i % len(centres)]
        r = (i // len(centres) + 1) * rng.uniform(0.01, 0.04) * min(w, h)
        width = max(1, int(rng.uniform(1, 8)))
        draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r), outline=_alpha(colours[2 + i % 3], 200), width=width
        )


def _stripes(canvas: Canvas) -> None:
    draw, rng, w, h = canvas.draw, canvas.rng, canvas.width, canvas.height
    colours, detail, sides = canvas.colours, canvas.detail, canvas.sides
    for i in range(detail):
        x = rng.uniform(-0.2, 1.0) * w
        width = rng.uniform(0.01, 0.08) * w
        slant = rng.uniform(-0.3, 0.3) * h * sides / 5  # the prompt's motif sets the lean
        pts = [(x, 0.0), (x + width, 0.0), (x + width + slant, float(h)), (x + slant, float(h))]
        draw.polygon(pts, fill=_alpha(colours[2 + i % 3], rng.randint(80, 200)))


_STYLES = {
    "orbs": _orbs,
    "facets": _facets,
    "flow": _flow,
    "landscape": _landscape,
    "rings": _rings,
    "stripes": _stripes,
}


def _label(image: Image.Image, w: int, h: int) -> None:
    """Say in the pixels that this is a preview, so a saved grid can never pass for a real model."""
    try:  # a readable size needs FreeType; fall back to the small bitmap font without it
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(
            size=max(12, h // 48)
        )
    except (ImportError, TypeError, OSError):
        font = ImageFont.load_default()
    draw = ImageDraw.Draw(image, "RGBA")
    left, top, right, bottom = draw.textbbox((0, 0), ENGINE_LABEL, font=font)
    pad = 4
    box = (pad, h - (bottom - top) - 3 * pad, right - left + 3 * pad, h - pad)
    draw.rectangle(box, fill=(0, 0, 0, 150))
    draw.text(
        (2 * pad, h - (bottom - top) - 2 * pad - top), ENGINE_LABEL, fill=(255, 255, 255), font=font
    )


def encode(image: Image.Image, output_format: str) -> bytes:
    buffer = io.BytesIO()
    if output_format == "png":
        # low compression: fast to write, and PNG output stays byte-identical for equal pixels
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def render_bytes(req: RenderRequest) -> bytes:
    return encode(render(req), req.output_format)
