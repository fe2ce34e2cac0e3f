"""Compare grids laid out from the plan's axes (X columns, Y rows, Z sections, further axes as
facets), failed cells that keep the grid's shape, captions that say only what no header says,
several images packed in a cell, and re-layout without regenerating: ``r.grid(cols=, rows=,
z=, where=)``, ``.T``, with errors that name the argument and what it could be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from naive_nb.display.arrangement import GridError, arrange
from naive_nb.display.grid_html import PACK_GAP, geometry
from naive_nb.display.grid_model import Pack, Tile
from naive_nb.display.result import NaiveResult
from naive_nb.run.request import Axis
from tests.display.sweeps import GUIDANCE, MODELS, SEED, STEPS, sweep


def _headers(html: str) -> list[str]:
    """The bold header texts, as a reader sees them (line-break hints dropped)."""
    return re.findall(r"<b>([^<]*)</b>", html.replace("<wbr>", ""))


def test_three_axes_are_columns_rows_and_one_section_per_z_value(tmp_path: Path) -> None:
    result = NaiveResult(sweep(tmp_path, [SEED, STEPS, MODELS]))
    grid = result.layout()
    assert grid.column_headers == ("seed 1", "seed 2", "seed 3")
    assert grid.row_headers == ("steps 2", "steps 4", "steps 8") * 2
    assert [(s.start, s.heading) for s in grid.sections] == [
        (0, "model flux/schnell"),
        (3, "model flux/dev"),
    ]
    # each cell holds the job planned there: seed across, steps down, model per section
    for r, row in enumerate(grid.rows):
        for c, cell in enumerate(row):
            assert isinstance(cell, Tile)
            model = "flux/schnell" if r < 3 else "flux/dev"
            assert cell.caption == f"seed {c + 1} | steps {(2, 4, 8)[r % 3]} | model {model}"
    html = result._repr_mimebundle_()[0]["text/html"]
    headers = _headers(html)
    # the Z heading, then its column headers, then its rows, for each section in turn
    assert headers.index("model flux/schnell") < headers.index("seed 1") < headers.index("steps 2")
    assert headers.count("seed 1") == 2 and headers.count("model flux/dev") == 1
    assert "<br>seed" not in html and "<br>model" not in html  # no caption repeats a header
    assert "flux/schnell" not in grid.title  # the model varies: headers say it, not the title


def test_further_axes_become_facets_each_section_named_by_all_its_values(
    tmp_path: Path,
) -> None:
    seeds = Axis("seed", (1, 2), "seed")
    steps = Axis("num_inference_steps", (2, 4), "steps")
    result = NaiveResult(sweep(tmp_path, [seeds, steps, GUIDANCE, MODELS]))
    grid = result.layout()
    assert len(grid.rows) == 2 * 2 * 2 and grid.columns == 2
    assert [s.heading for s in grid.sections] == [
        "model flux/schnell | guidance 2.5",
        "model flux/schnell | guidance 3.5",
        "model flux/dev | guidance 2.5",
        "model flux/dev | guidance 3.5",
    ]
    first = grid.rows[0][0]
    assert isinstance(first, Tile) and "guidance 2.5" in first.caption
    assert "model flux/schnell" in first.caption


def test_failed_and_unreached_cells_keep_the_shape_and_say_why(tmp_path: Path) -> None:
    # jobs in plan order: seed 1 with steps 2, 4, 8, then seed 2...
    outcome = sweep(tmp_path, [SEED, STEPS], failed={1: "failed", 3: "cancelled"}, not_run=[8])
    result = NaiveResult(outcome)
    grid = result.layout()
    assert [len(row) for row in grid.rows] == [3, 3, 3]
    failed, cancelled, unreached = grid.rows[1][0], grid.rows[0][1], grid.rows[2][2]
    assert isinstance(failed, Tile) and failed.code == "failed" and failed.job_id == "job-01"
    assert isinstance(cancelled, Tile) and cancelled.code == "cancelled"
    assert isinstance(unreached, Tile) and unreached.code == "not_run"
    bundle = result._repr_mimebundle_()[0]
    html, text = bundle["text/html"], bundle["text/plain"]
    assert "<b>failed</b><br>failed: boom<br><small>job job-01</small>" in html
    assert "<b>cancelled</b><br>cancelled: boom<br><small>job job-03</small>" in html
    assert "<b>not run</b></td>" in html
    assert "FAILED: failed: boom; job job-01" in text and "NOT RUN" in text
    assert len(re.findall(r"<img ", html)) == 6


def test_captions_say_a_seed_varied_along_an_axis_and_nothing_the_headers_say(
    tmp_path: Path,
) -> None:
    # A1111's "vary seeds": each steps value runs its own seed, so the headers cannot say it
    outcome = sweep(tmp_path, [STEPS, MODELS], seeds=[10, 11, 12, 13, 14, 15])
    grid = NaiveResult(outcome).layout()
    html = NaiveResult(outcome)._repr_mimebundle_()[0]["text/html"]
    for seed in range(10, 16):
        assert f"<br>seed {seed}</td>" in html  # under its tile, once
    assert "<br>steps" not in html and "<br>model" not in html
    first = grid.rows[0][0]
    assert isinstance(first, Tile) and first.caption == "steps 2 | model flux/schnell | seed 10"


def test_several_images_of_a_job_are_packed_in_its_cell(tmp_path: Path) -> None:
    seeds = Axis("seed", (1, 2), "seed")
    steps = Axis("num_inference_steps", (2, 4), "steps")
    result = NaiveResult(sweep(tmp_path, [seeds, steps], images=4))
    grid = result.layout()
    assert grid.pack_shape == (2, 2)
    cell = grid.rows[0][0]
    assert isinstance(cell, Pack) and [t.caption for t in cell.tiles] == [
        f"seed 1 | steps 2 #{n}" for n in range(1, 5)
    ]
    html = result._repr_mimebundle_()[0]["text/html"]
    widths = [int(w) for w in re.findall(r'<img src="data:[^"]+" width="(\d+)"', html)]
    box = geometry(grid)
    assert len(widths) == 16 and set(widths) == {box.packed_width}
    assert 2 * box.packed_width + PACK_GAP <= box.tile_width  # two across in each cell...
    assert html.count("<br>") >= 4  # ...and two rows of them


def test_one_axis_with_several_images_keeps_image_rows(tmp_path: Path) -> None:
    seeds = Axis("seed", (1, 2), "seed")
    grid = NaiveResult(sweep(tmp_path, [seeds], images=2)).layout()
    assert grid.column_headers == ("seed 1", "seed 2")
    assert grid.row_headers == ("image 1", "image 2")


# ---------------------------------------------------------------------------------------------
# re-layout without regenerating


def test_named_axes_take_their_place_and_the_others_fill_the_rest(tmp_path: Path) -> None:
    result = NaiveResult(sweep(tmp_path, [SEED, STEPS, MODELS]))
    grid = result.grid(rows="model", cols="seed")
    assert grid.layout.column_headers == ("seed 1", "seed 2", "seed 3")
    assert grid.layout.row_headers == ("model flux/schnell", "model flux/dev") * 3
    assert [s.heading for s in grid.layout.sections] == ["steps 2", "steps 4", "steps 8"]
    # the same jobs, moved: seed 2, steps 4 on flux/dev is still that job
    cell = grid.layout.rows[3][1]
    assert isinstance(cell, Tile) and cell.caption == "seed 2 | steps 4 | model flux/dev"
    by_z = result.grid(z="seed")
    assert by_z.layout.column_headers == ("steps 2", "steps 4", "steps 8")
    assert [s.heading for s in by_z.layout.sections] == ["seed 1", "seed 2", "seed 3"]


def test_transposing_swaps_rows_and_columns(tmp_path: Path) -> None:
    result = NaiveResult(sweep(tmp_path, [SEED, STEPS]))
    grid, flipped = result.grid(), result.grid().T
    assert flipped.layout.column_headers == grid.layout.row_headers
    assert flipped.layout.row_headers == grid.layout.column_headers
    for r, row in enumerate(grid.layout.rows):
        for c, cell in enumerate(row):
            assert flipped.layout.rows[c][r] == cell
    assert result.grid().transpose().layout == flipped.layout


def test_where_keeps_values_in_the_order_given_and_a_single_one_goes_to_the_title(
    tmp_path: Path,
) -> None:
    result = NaiveResult(sweep(tmp_path, [SEED, STEPS, MODELS]))
    grid = result.grid(where={"steps": [8, 2], "seed": [3, "1"], "model": "flux/dev"})
    layout = grid.layout
    assert layout.column_headers == ("seed 3", "seed 1")
    assert layout.row_headers == ("steps 8", "steps 2")
    assert layout.sections == ()  # one model left: no sections...
    assert layout.title.startswith("fal-ai/flux/dev")  # ...it is in the title
    assert len(layout.tiles) == 4
    # the full model id names the value as well as its short form; so do equal numbers
    same = result.grid(where={"steps": [8.0, 2], "model": ["fal-ai/flux/dev"], "seed": [3, 1]})
    assert same.layout == layout
    # an axis named in the call keeps its place even with one value
    kept = result.grid(rows="model", where={"model": ["flux/dev"]})
    assert kept.layout.row_headers[:1] == ("model flux/dev",)


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        ({"cols": "stpes"}, "cols", "no axis 'stpes'; its axes: seed, steps, model"),
        ({"where": {"cfg": [1]}}, "where", "no axis 'cfg'"),
        ({"where": {"steps": [3]}}, "where", "3 is not one of its values: 2, 4, 8"),
        ({"where": {"steps": []}}, "where", "keeps no value"),
        ({"cols": "seed", "rows": "seed"}, "rows", "'seed' takes one place"),
        ({"z": "model", "where": {"model": ["flux/pro"]}}, "where", "flux/schnell, flux/dev"),
    ],
)
def test_a_grid_asked_for_with_a_wrong_name_or_value_says_which_and_what_it_could_be(
    tmp_path: Path, call: dict[str, object], field: str, words: str
) -> None:
    result = NaiveResult(sweep(tmp_path, [SEED, STEPS, MODELS]))
    with pytest.raises(GridError) as caught:
        result.grid(**call)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert words in str(caught.value)


def test_axis_names_and_values_are_the_ones_select_takes() -> None:
    axes = [SEED, STEPS, MODELS, GUIDANCE]
    by_label = arrange(axes, cols="steps", rows="seeds")
    by_key = arrange(axes, cols="num_inference_steps", rows="seed")
    assert by_label == by_key
    assert (by_label.cols, by_label.rows, by_label.z) == (1, 0, 2)
    assert arrange(axes, z="cfg").z == arrange(axes, z="guidance_scale").z == 3  # short names
    for dev in ("dev", "flux/dev", "fal-ai/flux/dev"):
        assert arrange(axes, where={"model": dev}).values[2] == ("fal-ai/flux/dev",)
    assert arrange(axes, where={"guidance": "3.5"}).values[3] == (3.5,)


def test_every_failure_code_of_the_run_layer_has_a_tile_heading() -> None:
    from naive_nb.display.tile_words import _HEADINGS
    from naive_nb.run.outcome import FAILURE_CODES

    missing = [
        code for code in (*FAILURE_CODES, "not_run", "file_missing") if code not in _HEADINGS
    ]
    assert missing == []
