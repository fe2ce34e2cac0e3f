"""The HTML view of a result: tile sizes that serve comparison, the notebook budget, markup that
survives every front end, captions that do not repeat the headers, and an honest note about the
full-size files."""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import replace

import pytest
from PIL import Image

from naive_nb.display.composite import composite
from naive_nb.display.grid import (
    GridLayout,
    GridSizes,
    Tile,
    geometry,
    grid_bundle,
    html_view,
    text_table,
)
from naive_nb.display.grid_html import (
    DENSITIES,
    QUALITIES,
    Embedding,
    _ladder,
    embed,
    render,
    stored_bytes,
    visible_caption,
)

SIZES = GridSizes()


def _image(seed: int, size: tuple[int, int] = (1024, 1024), noisy: bool = False) -> bytes:
    """Noise compresses like a photograph (the budget's worst case); smooth like a render."""
    w, h = size
    if noisy:
        picture = Image.effect_noise((w // 4, h // 4), 60 + seed).convert("RGB")
        picture = picture.resize((w, h), Image.Resampling.BICUBIC)
    else:
        picture = Image.linear_gradient("L").resize((w, h)).convert("RGB")
        picture.paste((40 * seed % 255, 90, 160), (w // 4, h // 4, w // 2, h // 2))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _tiles(
    count: int, size: tuple[int, int] = (1024, 1024), noisy: bool = False, axis: str = "seed"
) -> list[Tile]:
    return [
        Tile(
            caption=f"{axis} {n}",
            data=_image(n, size, noisy),
            seed=n,
            width=size[0],
            height=size[1],
            path=f"naive-results/job{n}/1-seed{n}.png",
        )
        for n in range(1, count + 1)
    ]


def _xy_plot(noisy: bool = False) -> GridLayout:
    """4 seeds across, 4 step counts down, one image per cell: an X/Y plot."""
    seeds, steps = range(1, 5), range(1, 5)
    rows = tuple(
        tuple(
            Tile(
                caption=f"seed {seed} | steps {step}",
                data=_image(seed * 10 + step, noisy=noisy),
                seed=seed,
                width=1024,
                height=1024,
                path=f"naive-results/j{seed}{step}/1-seed{seed}.png",
            )
            for seed in seeds
        )
        for step in steps
    )
    return GridLayout(
        title="fal-ai/flux/schnell | square_hd | 'a fox'",
        rows=rows,
        column_headers=tuple(f"seed {s}" for s in seeds),
        row_headers=tuple(f"steps {s}" for s in steps),
    )


def _imgs(html: str) -> list[tuple[int, Image.Image]]:
    """(CSS width, embedded picture) of every image in the HTML."""
    found = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)" width="(\d+)"', html)
    return [(int(w), Image.open(io.BytesIO(base64.b64decode(data)))) for data, w in found]


# ---------------------------------------------------------------------------------------------
# layout


@pytest.mark.parametrize(
    ("count", "rows"),
    [
        (1, [1]),
        (3, [3]),
        (4, [4]),
        (5, [3, 2]),
        (6, [3, 3]),
        (8, [4, 4]),
        (9, [3, 3, 3]),
        (10, [4, 4, 2]),
        (16, [4, 4, 4, 4]),
    ],
)
def test_wrapped_rows_are_balanced(count: int, rows: list[int]) -> None:
    tiles = [Tile(caption=f"seed {n}", seed=n) for n in range(count)]
    layout = GridLayout.wrapped("t", tiles)
    assert [len(row) for row in layout.rows] == rows
    assert [t.seed for t in layout.tiles] == list(range(count))  # order kept


# ---------------------------------------------------------------------------------------------
# sizes that serve comparison (defaults: JupyterLab's output area in a 1280 px window)


def test_one_image_is_large_and_keeps_its_shape() -> None:
    square = geometry(GridLayout.wrapped("t", _tiles(1)))
    assert 512 <= square.tile_width <= SIZES.width
    assert square.tile_height(None) == square.tile_width
    wide = GridLayout.wrapped("t", _tiles(1, (1024, 576)))
    box = geometry(wide)
    assert box.tile_width >= 512 and box.tile_height(wide.tiles[0]) == round(
        box.tile_width * 576 / 1024
    )
    tall = GridLayout.wrapped("t", _tiles(1, (576, 1024)))
    assert geometry(tall).tile_width >= 512  # at least 512 wide, even if that makes it tall
    small = GridLayout.wrapped("t", _tiles(1, (300, 200)))
    assert geometry(small).tile_width == 300  # its own size, never blown up


@pytest.mark.parametrize(("count", "least"), [(2, 384), (3, 200), (4, 200)])
def test_tiles_in_one_row_share_the_width(count: int, least: int) -> None:
    layout = GridLayout.wrapped("t", _tiles(count))
    box = geometry(layout)
    assert len(layout.rows) == 1
    assert box.tile_width >= least
    assert box.table_width <= SIZES.width


def test_a_4x4_xy_plot_is_180px_a_tile_with_its_row_headers() -> None:
    box = geometry(_xy_plot())
    assert box.header_width > 0
    assert box.tile_width >= 180
    assert box.table_width <= SIZES.width


def test_eight_landscape_seeds_are_two_rows_of_four_and_stay_wide() -> None:
    layout = GridLayout.wrapped("t", _tiles(8, (1024, 576)))
    assert [len(row) for row in layout.rows] == [4, 4]
    box = geometry(layout)
    assert box.tile_width >= 200
    assert box.tile_height(layout.tiles[0]) == round(box.tile_width * 9 / 16)


def test_the_available_width_is_configurable() -> None:
    layout = GridLayout.wrapped("t", _tiles(4))
    narrow, wide = geometry(layout, GridSizes(width=500)), geometry(layout, GridSizes(width=1200))
    assert narrow.tile_width < geometry(layout).tile_width < wide.tile_width
    assert wide.table_width <= 1200


def test_the_html_draws_every_image_at_its_geometry_and_sharper_than_1x() -> None:
    layout = GridLayout.wrapped("t", _tiles(8, (1024, 576)))
    view = html_view(layout)
    images = _imgs(view.html)
    assert len(images) == 8
    for css_width, picture in images:
        assert css_width == view.geometry.tile_width
        assert picture.width > css_width  # more pixels than CSS px: sharp on HiDPI screens
        assert abs(picture.height / picture.width - 576 / 1024) < 0.01  # 16:9 stays 16:9
    assert view.density > 1


# ---------------------------------------------------------------------------------------------
# the notebook budget, quality before size


def _result_bytes(layout: GridLayout) -> int:
    """What the bundle adds to a notebook, plus the allowance kept for provenance metadata."""
    bundle = grid_bundle(layout)
    metadata = SIZES.metadata_bytes_per_image * len(layout.tiles)
    return sum(stored_bytes(v) for v in bundle.values()) + metadata


def test_sixteen_photo_like_1024px_images_fit_300kb() -> None:
    layout = GridLayout.wrapped("t", _tiles(16, noisy=True))
    assert _result_bytes(layout) <= 300_000
    assert len(_imgs(grid_bundle(layout)["text/html"])) == 16


def test_one_photo_like_1024px_image_fits_120kb() -> None:
    layout = GridLayout.wrapped("t", _tiles(1, noisy=True))
    assert _result_bytes(layout) <= 120_000


def test_the_ladder_lowers_quality_before_pixels() -> None:
    ladder = _ladder(2.0)
    assert ladder[: len(QUALITIES)] == [(2.0, q) for q in QUALITIES]
    densities = [d for d, _ in ladder]
    assert densities == sorted(densities, reverse=True)  # pixels only ever go down
    for density in DENSITIES:  # at each density every quality is tried before the next one
        qualities = [q for d, q in ladder if d == density]
        assert qualities[: len(QUALITIES)] == list(QUALITIES)
    assert _ladder(1.6)[0] == (1.6, QUALITIES[0])  # capped by the file's own pixels


def test_the_chosen_encoding_is_the_first_on_the_ladder_that_fits() -> None:
    layout = GridLayout.wrapped("t", _tiles(4, noisy=True))
    sizes = GridSizes(one_image_bytes=60_000, sixteen_images_bytes=120_000)
    view = html_view(layout, sizes)
    box = geometry(layout, sizes)
    allowed = sizes.budget(4) - sizes.metadata_bytes_per_image * 4
    tried: list[tuple[float, int, int]] = []

    def record(embedding: Embedding) -> bool:
        size = stored_bytes(render(layout, box, embedding, {}))
        tried.append((embedding.density, embedding.quality, size))
        return size <= allowed

    embed(layout, box, sizes, record)
    *earlier, chosen = tried
    assert (chosen[0], chosen[1]) == (view.density, view.quality)
    assert chosen[2] <= allowed
    assert earlier and all(size > allowed for _, _, size in earlier)  # sharper ones did not fit
    assert stored_bytes(view.html) <= allowed


def test_a_generous_budget_keeps_full_quality_at_2x() -> None:
    layout = GridLayout.wrapped("t", _tiles(2))
    view = html_view(layout, GridSizes(one_image_bytes=10**7, sixteen_images_bytes=10**7))
    assert (view.density, view.quality) == (2.0, QUALITIES[0])


# ---------------------------------------------------------------------------------------------
# one visible view, markup every front end keeps


def test_the_bundle_is_html_and_text_only() -> None:
    bundle = grid_bundle(GridLayout.wrapped("t", _tiles(4)))
    assert set(bundle) == {"text/html", "text/plain"}  # no composite JPEG nobody sees


def test_markup_undoes_front_end_table_styles_and_needs_no_stylesheet() -> None:
    html = grid_bundle(_xy_plot())["text/html"]
    assert "<style" not in html and "<script" not in html and "<th" not in html
    rows = re.findall(r"<tr[^>]*>", html)
    assert rows and all('style="background:transparent"' in row for row in rows)  # no stripes
    cells = re.findall(r"<td[^>]*>", html)
    assert cells and all("text-align:" in cell and "padding:2px" in cell for cell in cells)
    assert 'style="border-collapse:collapse;border:none;margin:0;width:auto' in html


def test_layout_stands_on_attributes_when_styles_are_stripped() -> None:
    """GitHub drops style attributes: widths and alignment must still be there."""
    layout = _xy_plot()
    box = geometry(layout)
    stripped = re.sub(r' style="[^"]*"', "", grid_bundle(layout)["text/html"])
    widths = re.findall(r'<img src="data:[^"]+" width="(\d+)"', stripped)
    assert widths == [str(box.tile_width)] * 16
    assert stripped.count('align="center" valign="top"') == 16
    assert f'align="right" valign="middle" width="{box.header_width - 4}"' in stripped
    assert 'cellspacing="0" cellpadding="2"' in stripped


def test_xy_captions_do_not_repeat_the_headers() -> None:
    html = grid_bundle(_xy_plot())["text/html"]
    # each header once as a header, and nowhere as a visible caption
    assert html.count("<b>seed 1</b>") == 1 and html.count("<b>steps 4</b>") == 1
    assert "<br>seed" not in html and "<br>steps" not in html
    # the full parameters stay in each image's alt text and tooltip
    assert 'alt="seed 2 | steps 3 (1024x1024)"' in html


@pytest.mark.parametrize(
    ("caption", "headers", "shown"),
    [
        ("seed 1 | steps 2", ["seed 1", "steps 2"], ""),
        ("seed 1 | steps 2 | cfg 3", ["seed 1", "steps 2"], "cfg 3"),
        ("seed 1 #2", ["seed 1", "image 2"], ""),
        ("seed 1 #2", ["seed 1"], "#2"),
        ("seed 5", [], "seed 5"),
        ("seed 5", ["seed 1"], "seed 5"),
    ],
)
def test_visible_caption(caption: str, headers: list[str], shown: str) -> None:
    assert visible_caption(caption, headers) == shown


def test_flat_grids_keep_their_captions() -> None:
    html = grid_bundle(GridLayout.wrapped("t", _tiles(4)))["text/html"]
    for n in range(1, 5):
        assert f"<br>seed {n}</td>" in html


def test_a_failed_tile_keeps_its_place_and_says_why() -> None:
    tiles = [*_tiles(3), Tile(caption="seed 4", error="provider_error: rejected", seed=4)]
    layout = GridLayout.wrapped("t", tiles)
    box = geometry(layout)
    html = grid_bundle(layout)["text/html"]
    assert len(_imgs(html)) == 3
    assert "<b>failed</b><br>provider_error: rejected" in html
    assert f'width="{box.tile_width}"' in html.split("failed")[0].rsplit("<table", 1)[1]
    assert f'height="{box.tile_height(None)}"' in html


def test_an_undecodable_file_becomes_a_failed_tile() -> None:
    layout = GridLayout.wrapped("t", [Tile(caption="seed 1", data=b"junk", width=64, height=64)])
    assert "could not be decoded" in grid_bundle(layout)["text/html"]


# ---------------------------------------------------------------------------------------------
# honest about the full-size files


def test_the_note_says_where_the_files_are_and_how_to_get_them_again() -> None:
    layout = GridLayout.wrapped("t", _tiles(4))
    bundle = grid_bundle(layout)
    for text in (bundle["text/html"], bundle["text/plain"]):
        assert "4 files in naive-results/ on the computer that made this output" in text
        assert "not saved in the notebook" in text
        assert "re-run the cell: a seeded request on the same backend gives the same" in text
    assert 'href="naive-results/job1/1-seed1.png"' in bundle["text/html"]


def test_no_files_no_note_and_the_note_can_be_replaced() -> None:
    failed = GridLayout.wrapped("t", [Tile(caption="seed 1", error="boom")])
    assert "Full-size" not in grid_bundle(failed)["text/html"]
    layout = replace(GridLayout.wrapped("t", _tiles(1)), note="Files: see the store.")
    bundle = grid_bundle(layout)
    assert "Files: see the store." in bundle["text/html"]
    assert bundle["text/plain"].endswith("Files: see the store.")
    quiet = replace(layout, note="")
    assert "Files:" not in text_table(quiet) and "Full-size" not in text_table(quiet)


# ---------------------------------------------------------------------------------------------
# the composite (result.grid())


def test_the_composite_honours_the_aspect_ratio() -> None:
    layout = GridLayout.wrapped("t", _tiles(4, (1024, 576)))
    picture = composite(layout)
    assert picture.width > picture.height * 2  # four 16:9 tiles in a row, not four squares
    assert max(picture.size) <= SIZES.composite_side


def test_bundle_is_json_ready() -> None:
    bundle = grid_bundle(GridLayout.wrapped("t", _tiles(2)))
    assert json.loads(json.dumps(bundle)) == bundle
