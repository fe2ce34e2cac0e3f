"""Compare grids as people see them in JupyterLab 4 (Debian's Chromium at 1280 px wide),
measured in the DOM as ``test_grid_views.py`` measures the display issue's results.

Three outputs: a 4x4 grid of seeds across and four models down (long row headers that must
wrap rather than squeeze the tiles), a 3x3x2 grid (seeds across, steps down, one section per
model), and the second laid out again from its result without regenerating
(``r.grid(rows="model", cols="seed", where={"steps": [4, 1]})``). What must hold: the display
issue's sizes (a 4x4 grid at 180 px or more a tile beside its row headers; nothing wider than
the output area; image shapes kept; sharper than 1x), headers aligned with their rows and
columns in every section, section headings above their sections, no caption repeating a header,
and the saved outputs carrying the sweep's request. Screenshots go to
``tests/browser/artifacts/`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.frontends import Run, run_and_measure

MODELS = "fal-ai/flux/schnell,fal-ai/flux/dev,fal-ai/flux-pro/v1.1,fal-ai/flux-realism"
CELLS = [
    "%load_ext naive_nb",
    f"%naive a lighthouse at dusk --seeds 1-4 --vary model={MODELS}",
    "%naive a lighthouse at dusk --seeds 1-3 --vary steps=1,2,4 "
    "--vary model=fal-ai/flux/schnell,fal-ai/flux/dev",
    'r = _\nr.grid(rows="model", cols="seed", where={"steps": [4, 1]})',
]
NOTEBOOK = "compare.ipynb"
VIEWPORT = {"width": 1280, "height": 2400}  # tall: each grid screenshots whole
SHORT = {
    "fal-ai/flux/schnell": "flux/schnell",
    "fal-ai/flux/dev": "flux/dev",
    "fal-ai/flux-pro/v1.1": "flux-pro/v1.1",
    "fal-ai/flux-realism": "flux-realism",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root, home = tmp_path_factory.mktemp("compare"), tmp_path_factory.mktemp("compare-home")
    with run_and_measure(
        "lab", root, home, NOTEBOOK, CELLS, viewport=VIEWPORT, shots="lab-compare"
    ) as done:
        yield done


def _rows(images: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    tops = sorted({round(image["top"]) for image in images})
    return [
        sorted((i for i in images if round(i["top"]) == top), key=lambda i: i["left"])
        for top in tops
    ]


def _centre(box: dict[str, float], axis: str) -> float:
    return (box["left"] + box["right"]) / 2 if axis == "x" else (box["top"] + box["bottom"]) / 2


def _headers(result: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Every header box with this text, top to bottom."""
    return sorted((h for h in result["headers"] if h["text"] == text), key=lambda h: h["top"])


def _check_section(
    result: dict[str, Any],
    rows: list[list[dict[str, Any]]],
    columns: list[str],
    row_names: list[str],
    index: int,
) -> None:
    """Headers of one section aligned with its rows and columns (its ``index``-th copy)."""
    for name, row in zip(row_names, rows, strict=True):
        header = _headers(result, name)[index]
        assert row[0]["top"] <= _centre(header, "y") <= row[0]["bottom"], name
        assert header["right"] <= row[0]["left"], name  # beside the row, not over it
    for name, tile in zip(columns, rows[0], strict=True):
        header = _headers(result, name)[index]
        assert tile["left"] <= _centre(header, "x") <= tile["right"], name
        assert header["bottom"] <= tile["top"], name  # above its column


def _sizes(result: dict[str, Any], least: int) -> None:
    assert min(i["width"] for i in result["images"]) >= least
    assert result["table"]["right"] <= result["contentRight"] + 0.5  # no scrolling
    for shown in result["images"]:
        drawn = shown["height"] / shown["width"]
        assert abs(drawn - shown["naturalHeight"] / shown["naturalWidth"]) < 0.01
        assert shown["naturalWidth"] > shown["width"]  # sharper than 1x on HiDPI screens


def test_a_4x4_grid_of_models_keeps_180px_tiles_beside_long_row_headers(run: Run) -> None:
    result = run.live[0]
    rows = _rows(result["images"])
    assert [len(row) for row in rows] == [4, 4, 4, 4]
    _sizes(result, 180)
    models = [f"model {short}" for short in SHORT.values()]
    _check_section(result, rows, [f"seed {n}" for n in range(1, 5)], models, 0)
    for name in models:  # a long model id wraps in its header instead of squeezing the tiles
        [header] = _headers(result, name)
        assert header["right"] - header["left"] <= 84
    for name in ("seed 2", "model flux/dev"):
        assert result["text"].count(name) == 1  # headers said once, no caption repeats them


def test_a_3x3x2_grid_has_a_section_per_model_with_its_own_headers(run: Run) -> None:
    result = run.live[1]
    rows = _rows(result["images"])
    assert [len(row) for row in rows] == [3] * 6
    _sizes(result, 180)
    seeds, steps = ["seed 1", "seed 2", "seed 3"], ["steps 1", "steps 2", "steps 4"]
    for index, heading in enumerate(("model flux/schnell", "model flux/dev")):
        section = rows[3 * index : 3 * index + 3]
        _check_section(result, section, seeds, steps, index)
        [title] = _headers(result, heading)
        assert title["bottom"] <= _headers(result, "seed 1")[index]["top"]  # above its headers
        if index:
            assert title["top"] >= rows[2][0]["bottom"]  # below the previous section
    assert result["text"].count("steps 2") == 2  # once per section, in no caption


def test_a_result_laid_out_again_shows_without_running_anything(run: Run) -> None:
    result = run.live[2]
    rows = _rows(result["images"])
    assert [len(row) for row in rows] == [3, 3, 3, 3]
    _sizes(result, 180)
    models = ["model flux/schnell", "model flux/dev"]
    first, second = _headers(result, "steps 4"), _headers(result, "steps 1")
    assert first[0]["top"] < second[0]["top"]  # in the order asked
    _check_section(result, rows[:2], ["seed 1", "seed 2", "seed 3"], models, 0)
    _check_section(result, rows[2:], ["seed 1", "seed 2", "seed 3"], models, 1)
    # the same files as the cell above: the tiles of steps 4 / seed 1 are the same pictures
    above = _rows(run.live[1]["images"])
    assert (
        rows[0][0]["alt"]
        == above[2][0]["alt"]
        == "seed 1 | steps 4 | model flux/schnell (1024x1024)"
    )


def test_saved_compare_outputs_carry_the_sweep_and_nothing_else(run: Run) -> None:
    grids = [
        o for cell in run.saved.cells for o in cell.outputs if "naive" in o.get("metadata", {})
    ]
    assert len(grids) == 3
    for output in grids:
        assert set(output["data"]) == {"text/html", "text/plain"}
        html = output["data"]["text/html"]
        assert "<style" not in html and "<script" not in html
        request = output["metadata"]["naive"]["request"]
        assert request["prompt"] == "a lighthouse at dusk"
        assert str(run.frontend.root) not in html + str(output["metadata"])
    models = grids[0]["metadata"]["naive"]["request"]["axes"]
    assert [axis["values"] for axis in models if axis["key"] == "model"] == [list(SHORT)]
    assert grids[2]["metadata"]["naive"]["grid"]["rows"] == "model"
