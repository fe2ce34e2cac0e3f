"""The viewer (``naive_nb.view(r)``, ``%naive view r``) and ``%naive panel``, from a real IPython
shell whose ``%naive`` talks to the embedded server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from PIL import Image

import naive_nb
from naive_nb.notebook.args import MagicUsageError, parse_line
from naive_nb.notebook.panel import Panel
from naive_nb.notebook.viewer import MAX_SIDE, Viewer, large_view
from naive_nb.run.records import StoredImage
from tests.magic.conftest import TestingShell


def stored(path: Path, side: int, fmt: str) -> StoredImage:
    Image.new("RGB", (side, side // 2), "teal").save(path, format=fmt)
    content = {"PNG": "image/png", "JPEG": "image/jpeg"}[fmt]
    return StoredImage(path, "0" * 64, side, side // 2, content, 1, 0, "job")


def test_a_large_file_is_scaled_down_in_the_kernel_and_a_small_one_sent_as_it_is(
    tmp_path: Path,
) -> None:
    big = stored(tmp_path / "big.png", 2048, "PNG")
    data, fmt = large_view(big)
    assert fmt == "jpeg"
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (MAX_SIDE, MAX_SIDE // 2)
    small = stored(tmp_path / "small.png", 1024, "PNG")
    assert large_view(small) == (small.path.read_bytes(), "png")


def test_view_of_a_magic_result(online: TestingShell) -> None:
    online.run("r = %naive a lighthouse at dusk --seeds 1-3")
    result = online.ns["r"]
    viewer = naive_nb.view(result, 2)
    assert isinstance(viewer, Viewer)
    assert viewer.index == 2 and viewer.images[2][0].seed == 3
    assert result.records[2].job_id in viewer.info.value
    text = viewer._repr_mimebundle_()["text/plain"]
    assert "naive-nb viewer (a live widget" in text and "seed 3" in text
    viewer.picker.value = 0
    assert viewer.images[0][0].job_id in viewer.info.value
    assert viewer.errors == []
    viewer.close()


def test_naive_view_and_naive_panel_subcommands(online: TestingShell) -> None:
    assert parse_line("view").variable is None
    assert parse_line("view r").variable == "r"
    assert parse_line("panel").name == "panel"
    with pytest.raises(MagicUsageError, match="takes the name of a result"):
        parse_line("view r s")
    with pytest.raises(MagicUsageError, match="takes no arguments"):
        parse_line("panel of judges")
    online.run("r = %naive a lighthouse --seed 4")
    viewer = online.run("%naive view r")
    assert isinstance(viewer, Viewer) and viewer.images[0][0].seed == 4
    viewer.close()
    with pytest.raises(UsageError, match="'nothing' is not a %naive result"):
        online.run("nothing = 1\n%naive view nothing")
    panel = online.run("%naive panel")
    assert isinstance(panel, Panel)
    assert panel.runs == [] and panel.errors == []
    panel.close()
    assert "%naive panel" in online.capture("%naive help")[1].stdout
