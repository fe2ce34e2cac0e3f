"""``python -m naive_nb.demo``: the README's main job (execute the notebooks on the embedded
server, say where everything went) and ``--refresh`` (re-make the committed copies), on small
notebooks of their own so that the commands themselves are what is tested."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from naive_nb import demo
from tests.conftest import CANARY_KEY
from tests.notebooks.notebooks import FOLDER

GENERATE = "%naive a red fox in fresh snow --seed 3 --size square"


def _write(folder: Path, name: str, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# {name}")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(autouse=True)
def fast_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAIVE_LOCAL_TIME_SCALE", "0.01")


def test_the_demo_runs_in_order_the_tour_then_the_study() -> None:
    names = [path.stem for path in demo.notebook_paths()]
    assert names == ["quickstart", "study", "reproducibility", "panel"]
    assert demo.notebook_paths(["study"]) == [FOLDER / "study.ipynb"]


def test_the_demo_executes_keyless_and_says_where_everything_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a key in the environment is not the demo's: it runs on the embedded server
    monkeypatch.setenv("NAIVE_API_KEY", CANARY_KEY)
    monkeypatch.setenv("NAIVE_BASE_URL", "http://192.0.2.1:9")  # unroutable: never used
    monkeypatch.chdir(tmp_path)
    notebooks = tmp_path / "nbs"
    _write(notebooks, "fox", "%load_ext naive_nb", GENERATE, "open('fox-report.html', 'w').close()")
    assert demo.main(["--notebooks", str(notebooks), "--out", "out"]) == 0
    printed = capsys.readouterr().out
    assert "fox" in printed and "out/fox.ipynb" in printed and "fox.html" in printed
    assert "written:   out/fox-report.html" in printed
    assert "files:     out/naive-results/ (1 full-size images" in printed
    executed = nbformat.read(tmp_path / "out" / "fox.ipynb", as_version=4)
    shown = "".join(o["data"]["text/plain"] for o in executed.cells[2].outputs if "data" in o)
    assert "no NAIVE_API_KEY set, so using the local preview engine" in shown
    assert (tmp_path / "out" / "fox.html").read_text().count("data:image/jpeg;base64,") == 1
    assert CANARY_KEY not in (tmp_path / "out" / "fox.ipynb").read_text()


def test_a_failing_notebook_fails_the_demo_and_keeps_what_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebooks = tmp_path / "nbs"
    _write(notebooks, "broken", "print('ran')", "1 / 0", "print('never')")
    assert demo.main(["--notebooks", str(notebooks), "--out", str(tmp_path / "out")]) == 1
    assert "FAILED: broken.ipynb: CellExecutionError" in capsys.readouterr().out
    partial = nbformat.read(tmp_path / "out" / "broken.failed.ipynb", as_version=4)
    assert partial.cells[1].outputs[0]["text"] == "ran\n"
    assert partial.cells[2].outputs[-1]["ename"] == "ZeroDivisionError"


def test_an_unknown_notebook_is_refused_naming_those_there_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert demo.main(["stuyd"]) == 2
    error = capsys.readouterr().err
    assert "no notebook stuyd" in error and "quickstart, reproducibility, study" in error


def test_refresh_rewrites_a_notebook_with_fresh_normalised_outputs(tmp_path: Path) -> None:
    path = _write(tmp_path, "fox", "%load_ext naive_nb", GENERATE)
    assert demo.main(["--refresh", "--notebooks", str(tmp_path), "fox"]) == 0
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert [c.execution_count for c in notebook.cells[1:]] == [1, 2]
    assert any("naive" in o.get("metadata", {}) for o in notebook.cells[2].outputs)
    assert all("execution" not in c.metadata for c in notebook.cells)  # no timestamps
    assert demo.leaks(notebook) == []
    assert list(tmp_path.iterdir()) == [path]  # its store was a temporary folder


def test_refresh_refuses_a_notebook_that_would_carry_a_path_or_a_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "leaky", "import os\nprint(os.getcwd())", "print('127.0.0.1:8765')")
    before = path.read_bytes()
    assert demo.main(["--refresh", "--notebooks", str(tmp_path)]) == 1
    assert "REFUSED: leaky.ipynb would carry" in capsys.readouterr().out
    assert path.read_bytes() == before
