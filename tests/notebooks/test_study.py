"""The seed and model comparison study: each section on a real kernel, and the study as a batch
run with papermill (its parameters cell), where a failed job must fail the run (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from PIL import Image

import naive_nb
from naive_nb.local import LocalServer
from tests.conftest import CANARY_KEY
from tests.notebooks.conftest import Run
from tests.notebooks.notebooks import FOLDER, canary_server, cell, images_shown, results, texts

STUDY = FOLDER / "study.ipynb"
SCHNELL, DEV = "fal-ai/flux/schnell", "fal-ai/flux/dev"
KOI = {"prompt": "a koi pond under maple leaves", "seeds": [5, 6], "models": [SCHNELL, DEV]}


def test_the_parameters_cell_is_tagged_for_papermill() -> None:
    notebook = nbformat.read(STUDY, as_version=4)
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert [c.id for c in parameters] == ["parameters"]
    for name in ("prompt =", "seeds =", "models =", "name ="):
        assert name in parameters[0].source


def test_each_section_shows_what_it_says(keyless: Run) -> None:
    run = keyless("study")
    notebook = run.notebook
    by_seed = texts(cell(notebook, "by-seed"))
    assert "naive: 4 images over seed (4), about 0.48 credits ($0.02)" in by_seed
    by_model = texts(cell(notebook, "by-model"))
    assert "naive: 8 images over seed (4) x model (2), 4 jobs from the store" in by_model
    assert "about 4 credits ($0.20)" in by_model  # only the Dev jobs are to pay for
    table = texts(cell(notebook, "table"))
    assert table.count(" cached ") == 4 and table.count(" done ") == 4
    assert "credits spent by this run: 4 " in table
    by_prompt = cell(notebook, "by-prompt")
    assert "over seed (2) x prompt (2)" in texts(by_prompt)
    grid = next(o for o in by_prompt.outputs if "naive" in o.get("metadata", {}))
    prompts = {job["input"]["prompt"] for job in grid["metadata"]["naive"]["jobs"]}
    assert prompts == {
        "a lighthouse on a cliff at dusk, warm light, watercolor",
        "a lighthouse on a cliff at dusk, warm light, pencil sketch",
    }
    assert "| ''" not in grid["data"]["text/plain"]  # no empty prompt in the title
    relayout = cell(notebook, "relayout").outputs[0]
    assert images_shown(relayout) == 4
    assert "seed 2 | model flux/dev" in relayout["data"]["text/plain"]
    export = texts(cell(notebook, "export"))
    assert "study-grid.png: " in export and "seed (4) x model (2), 8 jobs on record" in export
    with Image.open(run.workdir / "study-grid.png") as picture:
        assert picture.width > 2 * 512 and picture.height > 512  # full resolution, labelled
    loaded = naive_nb.load_run(run.workdir / "study-grid.png")
    assert loaded.request.seeds == (1, 2, 3, 4) and len(loaded.jobs) == 8
    assert "study-report.html: " in texts(cell(notebook, "report"))
    report = (run.workdir / "study-report.html").read_text(encoding="utf-8")
    assert "<script" not in report and "Study: a lighthouse on a cliff at dusk" in report
    assert report.count('src="data:image/jpeg;base64,') >= 4 + 8 + 4


# -- batch runs with papermill ------------------------------------------------------------------
@dataclass
class Batch:
    server: LocalServer
    folder: Path

    def run(self, output: str, parameters: dict[str, Any]) -> Any:
        """``papermill study.ipynb <folder>/<output> -p ...`` with the folder as working dir."""
        papermill.execute_notebook(
            str(STUDY),
            str(self.folder / output),
            parameters=parameters,
            cwd=str(self.folder),
            kernel_name="python3",
            progress_bar=False,
        )
        return nbformat.read(self.folder / output, as_version=4)

    def posts(self) -> int:
        return sum(1 for r in self.server.request_log if r.method == "POST")


@pytest.fixture
def batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Batch]:
    """A folder of papermill runs sharing one store, on a server here with the canary key."""
    with canary_server() as server:
        monkeypatch.setenv("NAIVE_API_KEY", CANARY_KEY)
        monkeypatch.setenv("NAIVE_BASE_URL", server.url)
        yield Batch(server, tmp_path)


def test_papermill_runs_the_study_end_to_end_with_other_parameters(batch: Batch) -> None:
    notebook = batch.run("koi.ipynb", {**KOI, "name": "koi"})
    ids = [c.id for c in notebook.cells]
    injected = ids.index("parameters") + 1
    assert "injected-parameters" in notebook.cells[injected].metadata["tags"]
    assert all(c.execution_count for c in notebook.cells if c.cell_type == "code")
    shown = [output["metadata"]["naive"] for _, output in results(notebook)]
    assert len(shown) == 4  # by seed, by model, by prompt, the re-layout
    by_seed, by_model = shown[0], shown[1]
    assert {job["seed"] for job in by_seed["jobs"]} == {5, 6}
    assert {job["input"]["prompt"] for job in by_seed["jobs"]} == {KOI["prompt"]}
    assert {job["model"] for job in by_model["jobs"]} == {SCHNELL, DEV}
    # 2 seeds, then 2 Dev jobs (Schnell's from the store), then 2 styles x 2 seeds
    assert batch.posts() == 2 + 2 + 4
    report = (batch.folder / "koi-report.html").read_text(encoding="utf-8")
    assert "Study: a koi pond under maple leaves" in report and "<script" not in report
    assert naive_nb.load_run(batch.folder / "koi-grid.png").request.seeds == (5, 6)
    runs = list((batch.folder / "naive-results" / "_runs").glob("*.json"))
    assert len(runs) == 3  # the three sweeps; the re-layout made nothing
    for path in batch.folder.rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path


def test_a_batch_run_again_on_its_store_sends_nothing(batch: Batch) -> None:
    batch.run("koi.ipynb", {**KOI, "name": "koi"})
    made = batch.posts()
    requests = len(batch.server.request_log)
    again = batch.run("koi-again.ipynb", {**KOI, "name": "koi"})
    assert batch.posts() == made and len(batch.server.request_log) == requests
    assert "4 from cache: 0 requests, 0 credits" in texts(cell(again, "by-model"))


def test_a_failed_job_fails_the_papermill_run(batch: Batch) -> None:
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        batch.run("failed.ipynb", {"prompt": "a lighthouse [fail]", "name": "failed"})
    assert caught.value.ename == "RuntimeError"
    assert "4 job(s) of this sweep failed" in caught.value.evalue
    notebook = nbformat.read(batch.folder / "failed.ipynb", as_version=4)  # saved as far as it ran
    by_seed = cell(notebook, "by-seed")
    assert by_seed.outputs[-1]["output_type"] == "error"
    grid = [o for o in by_seed.outputs if "naive" in o.get("metadata", {})]
    assert len(grid) == 1  # the grid of failed tiles is shown before the run stops
    assert "failed" in grid[0]["data"]["text/plain"]
    assert cell(notebook, "by-model").execution_count is None  # nothing after it ran
    assert not (batch.folder / "failed-report.html").exists()
    assert CANARY_KEY not in json.dumps(notebook)
