"""The quickstart on a real kernel (nbclient): what each of its sections must show.

Run keyless (as a reader runs it) and with the canary key on a server in this process (what was
sent). The checks every notebook gets (provenance, the key, the committed copy current, small and
readable on GitHub) are in test_notebooks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from naive_nb import demo
from naive_nb.local import LocalServer
from tests.conftest import CANARY_KEY
from tests.notebooks.conftest import Run
from tests.notebooks.notebooks import cell, images_shown, texts


def test_each_section_shows_what_it_says(keyless: Run) -> None:
    notebook = keyless("quickstart").notebook
    assert "no NAIVE_API_KEY set, so using the local preview engine" in texts(
        cell(notebook, "one-image")
    )
    seeds = texts(cell(notebook, "seeds"))
    assert "naive: 4 images over seed (4), about 0.48 credits ($0.02)" in seeds  # the plan
    assert "naive done: 4 images in" in seeds
    xy = texts(cell(notebook, "xy"))
    assert "naive: 4 images over seed (2) x steps (2)" in xy
    assert "seed 7 | steps 2" in xy and "seed 8 | steps 8" in xy
    cap = texts(cell(notebook, "cap"))
    assert "This sweep makes 40 jobs" in cap and "Add --yes" in cap and "Nothing was sent" in cap
    result = texts(cell(notebook, "result"))
    assert "4 from cache: 0 requests, 0 credits" in result
    assert "[1, 2, 3, 4] 0" in result  # seeds, and no credits spent
    assert "fal-ai/flux/schnell" in texts(cell(notebook, "models"))
    assert "simulated" in texts(cell(notebook, "status"))
    assert "1 from cache: 0 requests, 0 credits" in texts(cell(notebook, "cache-only"))
    miss = cell(notebook, "cache-miss").outputs[-1]
    assert miss["output_type"] == "error" and "Cache-only" in miss["evalue"]
    assert "seed 43" in miss["evalue"]
    mistake = cell(notebook, "mistake").outputs[-1]
    assert mistake["output_type"] == "error" and "num_inference_steps" in mistake["evalue"]
    shown = {
        ident: max(images_shown(o) for o in cell(notebook, ident).outputs)
        for ident in ("one-image", "seeds", "xy", "cache-only")
    }
    assert shown == {"one-image": 1, "seeds": 4, "xy": 4, "cache-only": 1}


def test_only_the_new_requests_were_sent(canary: Run) -> None:
    """9 jobs made (1 + 4 + 4); the cap, the cached and the cache-only cells sent no job."""
    run = canary("quickstart")
    posts = [path for method, path in run.requests if method == "POST"]
    assert posts == ["/v1/images/generate"] * 9
    images = list((run.workdir / "naive-results").rglob("*-seed*.jpg"))
    assert len([p for p in images if ".views" not in p.parts]) == 9


def test_nbconvert_html_shows_the_images_without_widgets(canary: Run) -> None:
    html = demo.to_html(canary("quickstart").notebook)
    assert html.count('src="data:image/jpeg;base64,') == 10  # 1 + 4 + 4, and the cache-only 1
    assert "widget-view+json" not in html and "widget-state+json" not in html
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
