"""The quickstart notebook on a real kernel (nbclient) against the embedded server.

Checks what a reader of the saved ``.ipynb`` gets: it validates, every result output carries
``text/html`` + ``text/plain`` and the provenance metadata, progress outputs show
how the run ended, a failing cell fails the run, nbconvert's HTML shows the images without
widgets, and the API key appears nowhere in the notebook or in the store.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from naive_nb import demo
from naive_nb.local import LocalServer
from tests.conftest import CANARY_KEY

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "notebooks" / "quickstart.ipynb"
BUDGET = 300_000
MIME = {"text/html", "text/plain"}  # issue 9: no image/jpeg beside the HTML every front end shows


def check_saved_notebook(notebook: Any) -> None:
    """What every saved run of the quickstart must satisfy (fresh or committed)."""
    nbformat.validate(notebook)
    text = json.dumps(notebook)
    assert CANARY_KEY not in text
    assert "application/vnd.jupyter.widget-view+json" not in text
    result_cells = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or "naive" not in cell.source or "%load_ext" in cell.source:
            continue
        generates = not any(word in cell.source for word in ("price", "models", "jobs", "status"))
        if "raises-exception" in cell.metadata.get("tags", []):
            assert [o.output_type for o in cell.outputs][-1] == "error"
            assert "num_inference_steps" in cell.outputs[-1]["evalue"]
            continue
        if not generates or "= %naive" in cell.source:  # an assignment displays no grid
            continue
        grids = [o for o in cell.outputs if "naive" in o.get("metadata", {})]
        assert len(grids) == 1, cell.source
        grid = grids[0]
        assert set(grid["data"]) >= MIME
        naive = grid["metadata"]["naive"]
        for key in (
            "model",
            "seeds",
            "job_ids",
            "credits",
            "created",
            "version",
            "backend",
            "jobs",
        ):
            assert key in naive, key
        for job in naive["jobs"]:
            assert job["input"]["prompt"] and isinstance(job["seed"], int)
            assert all(len(f["sha256"]) == 64 and f["path"] for f in job["files"])
        # the progress display (updated in place) ended in its summary, never a frozen bar
        progress = [o for o in cell.outputs if o is not grid and "data" in o]
        assert progress, cell.source
        assert progress[-1]["data"]["text/plain"].startswith("naive done:")
        assert not any("[...." in o["data"]["text/plain"] for o in progress)
        result_cells += 1
    assert result_cells >= 4


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The quickstart, outputs cleared, run with the canary key on a fresh embedded server."""
    from naive_nb.local import serve_local

    workdir = tmp_path_factory.mktemp("quickstart")
    notebook = copy.deepcopy(nbformat.read(COMMITTED, as_version=4))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    server: LocalServer
    with serve_local(api_key=CANARY_KEY, time_scale=0.01, rate_limit=None) as server:
        env = {"NAIVE_API_KEY": CANARY_KEY, "NAIVE_BASE_URL": server.url}
        demo.execute(notebook, workdir, timeout=120, env=env)
    path = workdir / "quickstart.ipynb"
    nbformat.write(notebook, path)
    return nbformat.read(path, as_version=4), workdir


def test_executed_quickstart_is_complete_and_keyless(executed: tuple[Any, Path]) -> None:
    notebook, workdir = executed
    check_saved_notebook(notebook)
    for path in workdir.rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path
    images = list((workdir / "naive-results").rglob("*-seed*.jpg"))
    assert len(images) == 9


def test_rerun_cell_was_served_from_the_cache(executed: tuple[Any, Path]) -> None:
    notebook, _ = executed
    sources = [cell.source for cell in notebook.cells]
    first = sources.index("%naive a red fox in fresh snow, watercolor --seed 42 --size square")
    again = sources.index(sources[first], first + 1)
    texts = [o["data"]["text/plain"] for o in notebook.cells[again].outputs if "data" in o]
    assert any("1 from cache: 0 requests, 0 credits" in text for text in texts)


def test_nbconvert_html_shows_the_images_without_widgets(executed: tuple[Any, Path]) -> None:
    notebook, _ = executed
    html = demo.to_html(notebook)
    assert html.count('src="data:image/jpeg;base64,') >= 9
    assert "widget-view+json" not in html and "widget-state+json" not in html
    assert "LOCAL PREVIEW" in html
    assert CANARY_KEY not in html


def test_a_failing_cell_fails_the_run(tmp_path: Path, local_server: LocalServer) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext naive_nb"),
        nbformat.v4.new_code_cell("%naive a cat [fail] --seed 1 --size square"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ]
    env = {"NAIVE_API_KEY": CANARY_KEY, "NAIVE_BASE_URL": local_server.url}
    with pytest.raises(CellExecutionError) as caught:
        demo.execute(notebook, tmp_path, timeout=60, env=env)
    assert "1 of 1 job failed" in str(caught.value)
    failed = notebook.cells[1].outputs
    assert failed[-1]["output_type"] == "error" and failed[-1]["ename"] == "NaiveUsageError"
    progress = [o for o in failed if "data" in o]
    assert progress[-1]["data"]["text/plain"].startswith("naive FAILED")
    assert "#b21818" in progress[-1]["data"]["text/html"]  # red
    assert notebook.cells[2].outputs == []
    assert CANARY_KEY not in json.dumps(notebook)


def test_committed_notebook_is_small_current_and_complete() -> None:
    assert COMMITTED.stat().st_size < BUDGET
    notebook = nbformat.read(COMMITTED, as_version=4)
    assert [cell.source for cell in notebook.cells] == [source for _, source, _ in demo.CELLS]
    check_saved_notebook(notebook)


def test_demo_writes_the_unexecuted_notebook(tmp_path: Path) -> None:
    path = tmp_path / "q.ipynb"
    assert demo.main(["--write-only", str(path)]) == 0
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert all(not getattr(cell, "outputs", []) for cell in notebook.cells)
