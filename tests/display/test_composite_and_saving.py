"""The labelled composite (``r.grid().image`` / ``.save()``): full resolution, headers that fit
with one font size per axis, margins and frames, an optional title, a size cap with a clear
message; the PNG's ``naive`` text chunk (the sweep and every tile's request); images only;
and the grid still answering what code written for the old Pillow return value asks of it."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from naive_nb.display.arrangement import header
from naive_nb.display.composite import (
    BACKGROUND,
    FAILED_FILL,
    CompositeStyle,
    CompositeTooLarge,
    draw_composite,
    fit_labels,
    frame,
)
from naive_nb.display.figure import read_saved_grid
from naive_nb.display.grid_model import GridLayout, Tile
from naive_nb.display.result import NaiveResult
from naive_nb.run.request import Axis, Request
from tests.display.sweeps import MODELS, SEED, STEPS, colour, picture, sweep


def _png_chunks(path: Path) -> list[tuple[bytes, bytes]]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def test_the_composite_is_full_resolution_and_every_tile_is_where_its_headers_say(
    tmp_path: Path,
) -> None:
    result = NaiveResult(sweep(tmp_path / "store", [SEED, STEPS], size=(300, 200)))
    grid = result.grid()
    image = grid.image
    f = frame(grid.layout, CompositeStyle())
    assert f.image == (300, 200)  # the files' own size
    left = f.pad + f.row_header_width + f.margin
    for r in range(3):
        for c in range(3):
            index = c * 3 + r  # seed c+1 (outer), steps r (inner) in plan order
            x = left + c * (f.cell[0] + f.margin) + 150
            y = f.row_tops[r] + 100
            assert image.getpixel((x, y)) == colour(index * 4)
    # between two tiles: a margin of background, framed by a line on each side
    gap_x = left + f.cell[0] + f.margin // 2
    assert image.getpixel((gap_x, f.row_tops[0] + 100)) == BACKGROUND
    assert image.getpixel((left + f.cell[0], f.row_tops[0] + 100)) == (150, 150, 150)
    half = grid.composite(scale=0.5)
    assert frame(grid.layout, CompositeStyle(scale=0.5)).image == (150, 100)
    assert half.width < image.width * 0.6


def test_headers_wrap_and_shrink_to_one_font_size_per_axis() -> None:
    prompts = Axis(
        "prompt",
        (
            "a lighthouse",
            "a lighthouse at dusk on a cliff over a stormy sea, with gulls and a rainbow behind",
        ),
    )
    models = Axis("model", ("fal-ai/flux/schnell", "fal-ai/stable-diffusion-v35-large"))
    tile = Tile(caption="x", data=None, width=256, height=256)
    layout = GridLayout(
        title="t",
        rows=((tile, tile), (tile, tile)),
        column_headers=tuple(header(prompts, v) for v in prompts.values),
        row_headers=tuple(header(models, v) for v in models.values),
    )
    f = frame(layout, CompositeStyle())
    columns, rows = f.column_headers, f.row_headers
    assert columns is not None and rows is not None
    # the long prompt does not fit 3 lines of its column at the size the tile calls for...
    assert (
        fit_labels(layout.column_headers, f.cell[0], 3, f.base, f.base, True)
        .lines[1][-1]
        .endswith("...")
    )
    assert columns.size < f.base  # ...so the whole axis shrinks, the short header too
    for lines in columns.lines:
        assert len(lines) <= 3
        assert all(columns.font.getlength(line) <= f.cell[0] for line in lines)
        assert not any(line.endswith("...") for line in lines)  # nothing cut
    assert columns.lines[0] == ("prompt a lighthouse",)
    # a model id breaks after its slashes and dashes, not inside a word
    assert rows.lines == (("model", "flux/schnell"), ("model", "stable-diffusion-", "v35-large"))
    for lines in rows.lines:
        assert all(rows.font.getlength(line) <= f.row_header_width for line in lines)
    # short headers on another axis keep the full size: one size per axis, not per grid
    short = GridLayout(title="t", rows=((tile,),), column_headers=("seed 1",))
    assert frame(short, CompositeStyle()).column_headers.size == f.base  # type: ignore[union-attr]


def test_font_size_margin_and_title_are_settable(tmp_path: Path) -> None:
    grid = NaiveResult(sweep(tmp_path, [SEED, STEPS])).grid()
    plain = frame(grid.layout, CompositeStyle())
    styled = frame(grid.layout, CompositeStyle(font_size=40, margin=30, title="Steps vs seeds"))
    assert styled.base == 40 and styled.margin == 30
    assert styled.title is not None and styled.title.lines == (("Steps vs seeds",),)
    assert plain.title is None
    assert styled.row_tops[0] > plain.row_tops[0]  # the title takes room above the grid
    titled = NaiveResult(sweep(tmp_path / "b", [SEED, STEPS])).grid(title="Steps vs seeds")
    assert titled.layout.headline == "Steps vs seeds"
    assert "<h3" in titled._repr_mimebundle_()[0]["text/html"]
    image = titled.image
    band = image.crop((0, 0, image.width, plain.pad + 20)).convert("L")
    assert band.getextrema()[0] < 100  # dark title text drawn in the band


def test_a_failed_tile_is_a_grey_box_with_its_words_and_the_grid_keeps_its_shape(
    tmp_path: Path,
) -> None:
    result = NaiveResult(sweep(tmp_path, [SEED, STEPS], failed={4: "failed"}))
    grid = result.grid()
    f = frame(grid.layout, CompositeStyle())
    image = grid.image
    left = f.pad + f.row_header_width + f.margin
    x = left + 1 * (f.cell[0] + f.margin) + f.cell[0] // 2  # seed 2
    y = f.row_tops[1] + f.cell[1] // 2  # steps 4
    assert image.getpixel((x, y)) == FAILED_FILL  # the middle stays a blank
    box = image.crop((x - f.cell[0] // 2, f.row_tops[1], x + f.cell[0] // 2, y))
    pixels = box.tobytes()
    reds = [n for n in range(0, len(pixels), 3) if pixels[n] > 150 and pixels[n + 1] < 80]
    assert len(reds) > 200  # the heading and the reason, in red


def test_a_composite_over_the_cap_is_refused_with_its_size_and_what_to_do(
    tmp_path: Path,
) -> None:
    grid = NaiveResult(sweep(tmp_path, [SEED, STEPS], size=(1024, 1024))).grid()
    f = frame(grid.layout, CompositeStyle())
    with pytest.raises(CompositeTooLarge) as caught:
        grid.composite(max_pixels=4_000_000)
    message = str(caught.value)
    assert f"{f.width}x{f.height} px" in message and "over the cap of 4 MP" in message
    assert "scale=0.55" in message and "where=" in message and "max_pixels" in message
    assert caught.value.width * caught.value.height > 4_000_000
    small = grid.composite(scale=0.55, max_pixels=4_000_000)  # what the message suggests fits
    assert small.width * small.height <= 4_000_000
    with pytest.raises(CompositeTooLarge):
        grid.save(tmp_path / "big.png", max_pixels=1_000_000)
    assert not (tmp_path / "big.png").exists()


def test_save_writes_the_sweep_and_every_tiles_request_in_a_png_text_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = sweep(Path("naive-results"), [SEED, STEPS, MODELS], failed={5: "failed"})
    grid = NaiveResult(outcome).grid()
    saved = grid.save("compare.png")
    assert saved == Path("compare.png")
    with Image.open(saved) as image:
        assert image.size == grid.image.size
        assert image.convert("RGB").tobytes() == grid.image.tobytes()
    chunks = dict(_png_chunks(saved))
    assert b"iTXt" in chunks  # the spec, compressed, UTF-8 (prompts are not only latin-1)
    key, _, rest = chunks[b"iTXt"].partition(b"\x00")
    assert key == b"naive" and rest[0] == 1  # compressed
    spec = read_saved_grid(saved)
    assert spec is not None
    assert json.loads(zlib.decompress(rest.split(b"\x00", 3)[3])) == spec  # the raw chunk too
    plan = outcome.plan
    assert plan is not None
    assert Request.from_json(spec["request"]) == plan.resolved  # the sweep, rebuilt exactly
    assert [a["key"] for a in spec["axes"]] == ["seed", "num_inference_steps", "model"]
    assert spec["layout"]["cols"] == "seed" and spec["layout"]["z"] == "model"
    assert len(spec["tiles"]) == 18
    tiles = {
        (t["coords"]["seed"], t["coords"]["steps"], t["coords"]["model"]): t for t in spec["tiles"]
    }
    job = plan.jobs[0]
    first = tiles[(1, 2, "fal-ai/flux/schnell")]
    assert first["input"] == job.input and first["model"] == job.model
    assert first["status"] == "completed" and first["job_id"] == "job-00"
    assert first["files"][0]["path"] == "naive-results/job-00/1-seed1.png"
    assert first["files"][0]["sha256"] == outcome.records[0].files[0].sha256
    failed = [t for t in spec["tiles"] if t["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["job_id"] == "job-05" and failed[0]["reason"] == "boom"
    assert str(tmp_path) not in json.dumps(spec)


def test_save_images_writes_the_tiles_only_named_by_their_values(tmp_path: Path) -> None:
    outcome = sweep(tmp_path / "store", [SEED, MODELS], failed={1: "failed"})
    grid = NaiveResult(outcome).grid(where={"seed": [1, 2]})
    written = grid.save_images(tmp_path / "out")
    names = sorted(path.name for path in written)
    assert names == [
        "seed-1_model-flux-schnell.png",
        "seed-2_model-flux-dev.png",
        "seed-2_model-flux-schnell.png",
    ]
    record = outcome.records[0]
    assert (tmp_path / "out" / names[0]).read_bytes() == record.files[0].path.read_bytes()
    spec = json.loads((tmp_path / "out" / "grid.json").read_text())
    assert len(spec["tiles"]) == 4 and spec["layout"]["where"] == {"seed": ["1", "2"]}
    assert not list((tmp_path / "out").glob("*.jpg"))  # no composite anywhere


def test_the_grid_answers_what_the_pillow_image_it_replaced_was_asked(tmp_path: Path) -> None:
    grid = NaiveResult(sweep(tmp_path, [SEED])).grid()
    assert grid.size == grid.image.size and grid.width == grid.image.width
    assert grid.mode == "RGB"
    assert grid.resize((40, 20)).size == (40, 20)
    assert grid.convert("L").mode == "L"
    # IPython's display probes (private names) and typos are not passed on: no picture is built
    fresh = NaiveResult(sweep(tmp_path / "b", [SEED])).grid()
    assert not hasattr(fresh, "_repr_png_")
    with pytest.raises(AttributeError, match="'Grid' object has no attribute 'layuot'"):
        fresh.layuot  # noqa: B018
    assert "image" not in fresh.__dict__
    data = fresh.__array_interface__  # numpy.asarray(grid) reads this
    assert data["shape"][:2] == (fresh.image.height, fresh.image.width)


def test_a_jpeg_save_keeps_the_spec_in_its_comment(tmp_path: Path) -> None:
    grid = NaiveResult(sweep(tmp_path / "store", [SEED])).grid()
    grid.save(tmp_path / "compare.jpg")
    spec = read_saved_grid(tmp_path / "compare.jpg")
    assert spec is not None and len(spec["tiles"]) == 3


def test_pictures_of_any_size_draw(tmp_path: Path) -> None:
    wide = NaiveResult(sweep(tmp_path / "a", [SEED, STEPS], size=(512, 288))).grid()
    f = frame(wide.layout, CompositeStyle())
    assert f.image == (512, 288)
    tall = Tile(caption="seed 1", data=picture(0, (100, 300)), width=100, height=300)
    both = GridLayout(title="t", rows=((wide.layout.tiles[0], tall),))
    f = frame(both, CompositeStyle())
    assert f.image == (512, 300)  # the box fits the widest and the tallest
    draw_composite(both)


def test_the_spec_places_each_tile_where_the_grid_draws_it(tmp_path: Path) -> None:
    eight = Axis("seed", tuple(range(1, 9)), "seed")
    for grid in (
        NaiveResult(sweep(tmp_path / "a", [eight])).grid(),  # wrapped: two rows of four
        NaiveResult(sweep(tmp_path / "b", [SEED, STEPS, MODELS])).grid(rows="model"),
    ):
        for tile in grid.spec()["tiles"]:
            cell = grid.layout.rows[tile["row"]][tile["column"]]
            assert isinstance(cell, Tile)
            assert cell.job_id == tile["job_id"]
            section = grid.layout.section_of(tile["row"])
            assert tile["section"] == (section.heading if section else "")
