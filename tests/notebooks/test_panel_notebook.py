"""The panel notebook on a real kernel (nbclient): the panel driven from code, its record, and
what the saved notebook keeps where a closed and a live panel were (docs/panel.md)."""

from __future__ import annotations

from tests.notebooks.conftest import Run
from tests.notebooks.notebooks import cell, images_shown, texts

WIDGET = "application/vnd.jupyter.widget-view+json"


def test_a_closed_panel_leaves_a_line_and_its_record(keyless: Run) -> None:
    notebook = keyless("panel").notebook
    outputs = cell(notebook, "open").outputs
    assert [WIDGET in o.get("data", {}) for o in outputs] == [False, False, False]
    notice, closed, record = (o["data"]["text/plain"] for o in outputs)
    assert "local preview engine" in notice
    assert closed == "naive-nb panel (closed): its 2 runs are kept in the output below."
    runs = outputs[2]["metadata"]["naive_panel"]["runs"]
    assert [len(run["jobs"]) for run in runs] == [4, 2]
    assert record.index("run 2 (") < record.index("run 1 (")  # newest first
    assert images_shown(outputs[2]) == 6
    assert "naive done: 4 images in" in texts(cell(notebook, "generate"))
    assert texts(cell(notebook, "cell")).startswith(
        '%naive a lighthouse on a cliff at dusk --model="fal-ai/flux/schnell" --seeds=1,2,3,4'
    )
    again = texts(cell(notebook, "again"))
    assert "naive done: 2 images in" in again and '--seeds=5,6 --size="landscape_16_9"' in again


def test_a_live_panel_leaves_its_text_line(keyless: Run) -> None:
    panel, record = cell(keyless("panel").notebook, "live").outputs
    assert set(panel["data"]) == {WIDGET, "text/plain"}
    assert panel["data"]["text/plain"].startswith("naive-nb panel (a live widget")
    assert record["data"]["text/plain"].startswith("naive-nb panel: no run yet")


def test_only_the_two_runs_were_sent(canary: Run) -> None:
    posts = [path for method, path in canary("panel").requests if method == "POST"]
    assert posts == ["/v1/images/generate"] * 6
