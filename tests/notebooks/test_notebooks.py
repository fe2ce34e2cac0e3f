"""Every notebook in ``notebooks/``, picked up by name: executed by nbclient on a real kernel,
keyless and with a canary key, and its committed copy checked to be current, small and readable
wherever it is opened (issues 9 and 12)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from naive_nb import demo
from tests.conftest import CANARY_KEY
from tests.notebooks.conftest import Run
from tests.notebooks.notebooks import (
    FOLDER,
    NAMES,
    NOTEBOOK_CAP,
    budget,
    images_shown,
    outline,
    output_bytes,
    results,
)

# an absolute path of the machine that ran it, or the address of an embedded server long gone
ABSOLUTE_OR_PORT = re.compile(
    r"(/tmp/|/root/|/home/|/Users/|/var/folders/|[A-Za-z]:\\\\|file://|"
    r"(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]):\d+)"
)
# what GitHub (and mail clients) strip or refuse in an output's HTML
STRIPPED = re.compile(r"<style|<script|<link|<iframe|javascript:|\son[a-z]+=", re.IGNORECASE)
PROGRESS_BAR = re.compile(r"^naive \[[#.]+\]")  # a progress line, not its final summary

PROVENANCE = ("model", "seeds", "job_ids", "credits", "created", "version", "backend", "jobs")


def committed(name: str) -> nbformat.NotebookNode:
    return nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)


def test_the_notebooks_are_the_four_of_the_issue() -> None:
    assert sorted(NAMES) == ["panel", "quickstart", "reproducibility", "study"]


@pytest.mark.parametrize("name", NAMES)
def test_opens_with_a_markdown_cell_saying_what_it_shows(name: str) -> None:
    first = committed(name).cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")
    assert len(first.source.split()) >= 40, "a short paragraph of what the notebook shows"
    assert "no key" in first.source  # it says that it runs as it is, on the embedded server


@pytest.mark.parametrize("name", NAMES)
def test_committed_copy_is_current(name: str, keyless: Run) -> None:
    """The committed notebook and a fresh keyless run of its cells show the same thing, but for
    job ids, digests, dates and durations (tests/notebooks/notebooks.py says exactly what)."""
    fresh = outline(keyless(name).notebook)
    saved = outline(committed(name))
    assert len(fresh) == len(saved)
    for now, then in zip(fresh, saved, strict=True):
        assert now == then, (
            f"{name}.ipynb, cell {then['id']!r}, is not what a fresh run shows: refresh it with "
            f"python -m naive_nb.demo --refresh {name}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_canary_run_keeps_the_key_out_of_everything_it_wrote(name: str, canary: Run) -> None:
    run = canary(name)
    assert CANARY_KEY not in json.dumps(run.notebook)
    assert CANARY_KEY not in demo.to_html(run.notebook)
    written = [path for path in run.workdir.rglob("*") if path.is_file()]
    assert len(written) > 5  # the notebook, and the store's files, manifests, cache, journal
    for path in written:
        assert CANARY_KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("name", NAMES)
def test_every_result_carries_its_provenance(name: str, canary: Run) -> None:
    run = canary(name)
    shown = list(results(run.notebook))
    assert shown, "a notebook of naive-nb shows results"
    for _, output in shown:
        assert {"text/html", "text/plain"} <= set(output["data"])
        naive = output["metadata"]["naive"]
        assert all(key in naive for key in PROVENANCE), sorted(naive)
        assert naive["jobs"]
        for job in naive["jobs"]:
            assert job["input"]["prompt"] and isinstance(job["seed"], int)
            assert job["model"] and job["job_id"]
            for file in job["files"]:
                assert len(file["sha256"]) == 64
                assert file["path"].startswith("naive-results/")  # relative to the notebook
                assert (run.workdir / file["path"]).is_file()
    for each in run.notebook.cells:  # progress ends in its summary, never a frozen bar
        for output in each.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            assert not PROGRESS_BAR.match(text), (each.id, text)


@pytest.mark.parametrize("name", NAMES)
def test_committed_copy_is_within_its_size_budget(name: str) -> None:
    path = FOLDER / f"{name}.ipynb"
    assert path.stat().st_size <= NOTEBOOK_CAP
    notebook = committed(name)
    shown = list(results(notebook))
    assert shown
    for each, output in shown:
        assert images_shown(output) >= 1
        assert output_bytes(output) <= budget(output), (each.id, output_bytes(output))


@pytest.mark.parametrize("name", NAMES)
def test_committed_copy_has_no_absolute_path_or_loopback_port(name: str) -> None:
    text = (FOLDER / f"{name}.ipynb").read_text(encoding="utf-8")
    assert ABSOLUTE_OR_PORT.findall(text) == []
    assert CANARY_KEY not in text and "nv_sk_" not in text  # no key of any kind


@pytest.mark.parametrize("name", NAMES)
def test_committed_copy_renders_on_github(name: str) -> None:
    """GitHub drops <style> and <script>; it shows text where a widget was; it needs a valid
    notebook. Nothing a reader needs may depend on what it drops."""
    notebook = committed(name)
    nbformat.validate(notebook)
    assert "widgets" not in notebook.metadata  # no widget state: Lab saves none by default
    for each in notebook.cells:
        assert "execution" not in each.metadata and "papermill" not in each.metadata
        for output in each.get("outputs", []):
            data = output.get("data", {})
            assert not STRIPPED.search(data.get("text/html", "")), each.id
            if data:
                assert "text/plain" in data, each.id  # something to show wherever it goes
    html = demo.to_html(notebook)
    assert html.count('src="data:image/jpeg;base64,') >= 4
    assert "LOCAL PREVIEW" in html
