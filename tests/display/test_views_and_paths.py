"""Showing a result again encodes nothing (the tiles' JPEGs are kept beside their files, named
by the file's sha256 and the encoding), and every path an output carries is relative to the
notebook, never an absolute path of the machine that ran it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from naive_nb.display import grid_html
from naive_nb.display.figure import read_saved_grid
from naive_nb.display.result import NaiveResult
from naive_nb.display.views import FOLDER, ViewCache
from tests.display.sweeps import SEED, STEPS, sweep


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many JPEGs the HTML view encodes."""
    calls: list[int] = []
    real = grid_html._encode

    def counting(image: object, quality: int) -> bytes:
        calls.append(quality)
        return real(image, quality)  # type: ignore[arg-type]

    monkeypatch.setattr(grid_html, "_encode", counting)
    return calls


def test_a_result_shown_again_encodes_nothing_and_shows_the_same_bytes(
    tmp_path: Path, encodes: list[int]
) -> None:
    outcome = sweep(tmp_path, [SEED, STEPS], size=(1024, 1024))
    first = NaiveResult(outcome)._repr_mimebundle_()
    assert encodes, "the first view encodes its tiles"
    kept = sorted((tmp_path / "job-00" / FOLDER).iterdir())
    sha = outcome.records[0].files[0].sha256
    assert kept and all(path.name.startswith(sha + "-") for path in kept)
    encodes.clear()
    again = NaiveResult(outcome)  # a re-run of the cell: a new result over the same files
    assert again._repr_mimebundle_() == first
    assert encodes == []
    assert again.views.hits >= 9 and again.views.stored == 0


def test_a_damaged_view_is_encoded_again_and_replaced(tmp_path: Path, encodes: list[int]) -> None:
    outcome = sweep(tmp_path, [SEED])
    html = NaiveResult(outcome)._repr_mimebundle_()[0]["text/html"]
    views = sorted((tmp_path / "job-00" / FOLDER).iterdir())
    views[0].write_bytes(views[0].read_bytes()[:100])  # cut short (a full disk, say)
    encodes.clear()
    assert NaiveResult(outcome)._repr_mimebundle_()[0]["text/html"] == html
    assert len(encodes) == 1  # that view only
    assert views[0].read_bytes().endswith(b"\xff\xd9")  # whole again


def test_a_store_that_cannot_be_written_still_shows_the_result(
    tmp_path: Path, encodes: list[int]
) -> None:
    outcome = sweep(tmp_path, [SEED])
    for job in tmp_path.iterdir():
        job.chmod(0o555)
    try:
        if os.access(tmp_path / "job-00", os.W_OK):  # root writes anyway: make it a file
            for job in tmp_path.iterdir():
                job.chmod(0o755)
                (job / FOLDER).write_text("not a folder")
        result = NaiveResult(outcome)
        bundle = result._repr_mimebundle_()[0]
        assert bundle["text/html"].count("<img ") == 3
        assert result.views.stored == 0
    finally:
        for job in tmp_path.iterdir():
            job.chmod(0o755)


def test_views_are_named_by_everything_their_bytes_depend_on(tmp_path: Path) -> None:
    outcome = sweep(tmp_path, [SEED])
    NaiveResult(outcome)._repr_mimebundle_()
    names = {p.name for p in (tmp_path / "job-00" / FOLDER).iterdir()}
    narrow = NaiveResult(outcome, sizes=grid_html.GridSizes(width=400))
    narrow._repr_mimebundle_()
    more = {p.name for p in (tmp_path / "job-00" / FOLDER).iterdir()} - names
    assert more, "another drawn size is another view, not a stale one reused"
    assert ViewCache().get(narrow.layout().tiles[0], "absent") is None


def test_paths_in_every_output_are_relative_to_the_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store outside the notebook's folder: paths go up with .., never absolute."""
    store, notebook = tmp_path / "elsewhere" / "store", tmp_path / "project" / "notebooks"
    notebook.mkdir(parents=True)
    monkeypatch.chdir(notebook)
    outcome = sweep(store, [SEED, STEPS])
    missing = outcome.records[0].files[0].path
    missing.unlink()  # one file gone: its tile says so
    result = NaiveResult(outcome)
    data, metadata = result._repr_mimebundle_()
    spec = read_saved_grid(result.grid().save("compare.png"))
    result.grid().save_images("out")
    written = [
        data["text/html"],
        data["text/plain"],
        json.dumps(metadata),
        json.dumps(spec),
        (notebook / "out" / "grid.json").read_text(),
    ]
    root = str(tmp_path)
    for text in written:
        assert root not in text
    assert "file missing: ../../elsewhere/store/job-00/1-seed1.png" in data["text/html"]
    assert 'href="../../elsewhere/store/job-01/1-seed1.png"' in data["text/html"]
    assert (
        'title="seed 1 | steps 4 (256x256); full-size file: ../../elsewhere/store/job-01/'
        in (data["text/html"])
    )
    files = [f["path"] for job in metadata["naive"]["jobs"] for f in job["files"]]
    assert files[0] == "../../elsewhere/store/job-00/1-seed1.png"


def test_kernels_sharing_a_store_never_leave_half_a_view(tmp_path: Path) -> None:
    """Several displays of the same files at once (kernels sharing a store): each view is
    written under a name of its own and moved into place, so every view is whole."""
    from concurrent.futures import ThreadPoolExecutor

    outcome = sweep(tmp_path, [SEED, STEPS], size=(1024, 1024))
    with ThreadPoolExecutor(4) as pool:
        bundles = list(pool.map(lambda _: NaiveResult(outcome)._repr_mimebundle_(), range(4)))
    assert all(bundle == bundles[0] for bundle in bundles)
    views = list(tmp_path.glob(f"*/{FOLDER}/*"))
    assert views and all(path.suffix == ".jpeg" for path in views)  # no temporary file left
    assert all(path.read_bytes().endswith(b"\xff\xd9") for path in views)
