"""%naive in a real shell against the embedded server: results, store, cache, provenance."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from naive_nb.display.result import NaiveResult
from naive_nb.local import LocalServer
from naive_nb.notebook.config import SettingRefused
from naive_nb.run.records import sha256_of
from naive_nb.run.session import Session
from naive_nb.run.store import read_provenance
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell


def _generations(server: LocalServer) -> int:
    return sum(1 for r in server.request_log if r.method == "POST")


def test_load_ext_imports_nothing_heavy_writes_nothing_sends_nothing(tmp_path: Path) -> None:
    code = (
        "import sys, os\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_cell('%load_ext naive_nb').raise_error()\n"
        "names = ('httpx', 'PIL', 'starlette', 'uvicorn', 'ipywidgets', 'naive_nb.local')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(heavy, sorted(os.listdir('.')), 'naive' in shell.magics_manager.magics['line'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[] [] True"


def test_generate_returns_a_result_with_stored_files(online: TestingShell) -> None:
    result = online.run("%naive a red fox in snow --seed 42 --num 2 --size square")
    assert isinstance(result, NaiveResult)
    assert online.ns["_"] is result
    assert result.seeds == [42]
    assert len(result.images) == 2
    for image in result.images:
        assert image.path.is_file()
        assert image.path.is_relative_to(Path.cwd() / "naive-results")
        assert sha256_of(image.path.read_bytes()) == image.sha256
        assert (image.width, image.height) == (512, 512)
        assert image.pil.size == (512, 512)
        stamp = read_provenance(image.path)
        assert stamp is not None and stamp["input"]["seed"] == 42
    manifest = json.loads((result.images[0].path.parent / "manifest.json").read_text())
    assert manifest["job_id"] == result.job_ids[0]
    assert [f["sha256"] for f in manifest["files"]] == [i.sha256 for i in result.images]


def test_output_bundle_has_three_mime_types_and_provenance(online: TestingShell) -> None:
    result = online.run("%naive a lighthouse --seed 7 --format png")
    data, metadata = result._repr_mimebundle_()
    # issue 9 (display): no image/jpeg beside the HTML, which every front end shows instead
    assert set(data) == {"text/html", "text/plain"}
    assert (
        base64.b64decode(data["text/html"].split("data:image/jpeg;base64,")[1].split('"')[0])[:3]
        == b"\xff\xd8\xff"
    )
    assert "<style" not in data["text/html"] and "<script" not in data["text/html"]
    assert "data:image/jpeg;base64," in data["text/html"]
    assert "seed 7" in data["text/plain"] and "naive-results/" in data["text/plain"]
    assert "LOCAL PREVIEW" in data["text/plain"]
    naive = metadata["naive"]
    assert naive["model"] == "fal-ai/flux/schnell"
    assert naive["seeds"] == [7]
    assert naive["job_ids"] == result.job_ids
    assert naive["jobs"][0]["input"] == {
        "prompt": "a lighthouse",
        "image_size": "square_hd",
        "num_images": 1,
        "output_format": "png",
        "seed": 7,
    }
    assert naive["jobs"][0]["files"][0]["sha256"] == result.images[0].sha256
    assert naive["backend"].startswith("127.0.0.1:")
    assert naive["local_preview"] is True
    assert naive["credits"] > 0 and naive["version"] and naive["created"]
    text = json.dumps([data, metadata])
    assert CANARY_KEY not in text


def test_out_flag_and_assignment_both_bind_the_result(online: TestingShell) -> None:
    online.run("%naive a boat --seed 1 -o boat")
    online.run("again = %naive a boat --seed 1")
    assert isinstance(online.ns["boat"], NaiveResult)
    assert online.ns["again"].job_ids == online.ns["boat"].job_ids  # the second came from cache


def test_cell_magic_body_is_the_prompt_and_keeps_dollar_and_braces(
    online: TestingShell, local_server: LocalServer
) -> None:
    result = online.run("%%naive --seed 3\nA logo for {company} costing $5\n")
    assert result.records[0].input["prompt"] == "A logo for {company} costing $5"
    online.run("%naive cost of $HOME in {braces} --seed 3")
    prompts = [job["result"]["prompt"] for job in local_server.jobs()]
    assert "cost of $HOME in {braces}" in prompts


def test_seed_sweep_runs_one_job_per_seed_side_by_side(
    online: TestingShell, local_server: LocalServer
) -> None:
    result = online.run("%naive a cat --seeds 1,5,9 --size square")
    assert result.seeds == [1, 5, 9]
    assert _generations(local_server) == 3
    layout = result.layout()
    assert [tile.caption for tile in layout.tiles] == ["seed 1", "seed 5", "seed 9"]
    assert len(layout.rows) == 1  # three tiles side by side


def test_sweep_with_several_images_gets_seed_columns_and_image_rows(online: TestingShell) -> None:
    result = online.run("%naive a cat --seeds 1-2 --num 2 --size square")
    layout = result.layout()
    assert layout.column_headers == ("seed 1", "seed 2")
    assert layout.row_headers == ("image 1", "image 2")


def test_unseeded_request_gets_a_concrete_seed_before_sending(
    online: TestingShell, local_server: LocalServer
) -> None:
    online.run("%config NaiveMagics.progress = 'text'")
    result, captured = online.capture("%naive a dog --size square")
    seed = result.seeds[0]
    assert isinstance(seed, int)
    assert f"seed {seed} was chosen" in captured.stdout
    assert local_server.jobs()[0]["result"]["seed"] == seed


def test_seeded_rerun_is_served_from_disk_with_zero_requests(
    online: TestingShell, local_server: LocalServer
) -> None:
    first = online.run("%naive a tree --seeds 1-2 --size square")
    requests = len(local_server.request_log)
    online.run("%config NaiveMagics.progress = 'text'")
    second, captured = online.capture("%naive a tree --seeds 1-2 --size square")
    assert len(local_server.request_log) == requests
    assert second.job_ids == first.job_ids
    assert second.credits == 0
    assert "2 from cache: 0 requests, 0 credits" in captured.stdout
    third = online.run("%naive a tree --seeds 1-2 --size square --refresh")
    assert third.job_ids != first.job_ids


def test_tampered_file_is_not_trusted_by_the_cache(
    online: TestingShell, local_server: LocalServer
) -> None:
    first = online.run("%naive a tree --seed 4 --size square")
    first.images[0].path.write_bytes(b"not the image")
    second = online.run("%naive a tree --seed 4 --size square")
    # not served as it was: fetched again from its job, which the server still has (no charge)
    assert second.job_ids == first.job_ids
    assert sha256_of(second.images[0].path.read_bytes()) == first.images[0].sha256
    assert _generations(local_server) == 1


def test_config_defaults_apply_and_flags_override(
    online: TestingShell, local_server: LocalServer
) -> None:
    online.run("%config NaiveMagics.size = 'square'")
    online.run("%config NaiveMagics.model = 'fal-ai/flux/dev'")
    online.run("%config NaiveMagics.num_images = 2")
    result = online.run("%naive a hill --seed 2 --num 1")
    record = result.records[0]
    assert record.model == "fal-ai/flux/dev"
    assert record.input["image_size"] == "square"
    assert record.input["num_images"] == 1


def test_config_lists_every_setting(ip: TestingShell) -> None:
    _, captured = ip.capture("%config NaiveMagics")
    for name in (
        "model",
        "size",
        "num_images",
        "output_format",
        "display_width",
        "thumbnail_size",
        "store",
        "timeout",
        "short_errors",
        "offline",
        "progress",
    ):
        assert f"NaiveMagics.{name}" in captured.stdout


def _tile_widths(result: object) -> list[int]:
    html = result._repr_mimebundle_()[0]["text/html"]  # type: ignore[attr-defined]
    return [int(w) for w in re.findall(r'<img src="data:[^"]+" width="(\d+)"', html)]


def test_display_width_sizes_the_tiles_to_the_room_there_is(online: TestingShell) -> None:
    line = "%naive a kite --seeds 1-4 --size square"
    default = _tile_widths(online.run(line))
    online.run("%config NaiveMagics.display_width = 1600")
    wide = _tile_widths(online.run(line))  # served from the store: only the view changes
    online.run("%config NaiveMagics.display_width = 500")
    narrow = _tile_widths(online.run(line))
    assert len(default) == len(wide) == len(narrow) == 4
    assert narrow[0] < default[0] < wide[0]
    assert 4 * wide[0] <= 1600 and 4 * wide[0] > 820
    with pytest.raises(SettingRefused, match="display_width must be an integer from 320 to 4000"):
        online.run("%config NaiveMagics.display_width = 100")


def test_store_location_is_configurable(online: TestingShell, tmp_path: Path) -> None:
    online.run(f"%config NaiveMagics.store = {str(tmp_path / 'elsewhere')!r}")
    result = online.run("%naive a kite --seed 5 --size square")
    assert result.images[0].path.is_relative_to(tmp_path / "elsewhere")


def test_the_key_appears_nowhere_in_the_store(online: TestingShell, tmp_path: Path) -> None:
    online.run("%naive a kite --seeds 1-2 --size square --format png")
    online.run("%naive status")
    for path in (tmp_path / "naive-results").rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path


def test_seeds_by_steps_is_an_xy_plot(online: TestingShell, local_server: LocalServer) -> None:
    result = online.run("%naive a fox --seeds 1-2 --steps 2,6 --size square")
    assert _generations(local_server) == 4
    assert result.axes() == ["seed", "num_inference_steps"]
    layout = result.layout()
    assert layout.column_headers == ("seed 1", "seed 2")
    assert layout.row_headers == ("steps 2", "steps 6")
    assert layout.rows[1][0] is not None and layout.rows[1][0].caption == "seed 1 | steps 6"
    assert "steps" not in result._title()  # what differs labels tiles, not the title
    data, metadata = result._repr_mimebundle_()
    assert "<b>steps 6</b>" in data["text/html"]  # issue 9: headers are bold cells
    assert sorted(j["input"]["num_inference_steps"] for j in metadata["naive"]["jobs"]) == [
        2,
        2,
        6,
        6,
    ]


def test_sweep_limits(online: TestingShell) -> None:
    from naive_nb.notebook.messages import NaiveUsageError

    # issue 10: a third axis is a Z axis (a grid per value), and a cell may hold several
    # images: both were refused before (two axes at most, one image per cell)
    assert online.run("%naive price --seeds 1-2 --steps 2,6 --guidance 1,2").rows[0][1] == 8
    table = online.run("%naive price --seeds 1-2 --steps 2,6 --num 2")
    assert table.rows[0][1:3] == (4, 2)
    # issue 10: a big sweep is no longer refused outright; above the cap it needs --yes
    with pytest.raises(NaiveUsageError, match="makes 80 jobs") as refused:
        online.run("%naive a fox --seeds 1-8 --steps 1-10")
    assert "--yes" in str(refused.value) and "confirm_images" in str(refused.value)
    table = online.run("%naive price --seeds 1-2 --steps 2,4,6")
    assert table.rows[0][1] == 6


def test_without_a_key_the_embedded_server_is_announced_once_as_an_output_line(
    ip: TestingShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naive_nb.client import _backend

    monkeypatch.setenv("NAIVE_LOCAL_TIME_SCALE", "0.01")
    monkeypatch.setattr(_backend, "_local", None)  # as in a fresh kernel
    try:
        _, first = ip.capture("%naive a fox --seed 1 --size square")
        _, second = ip.capture("%naive a fox --seed 2 --size square")
    finally:
        if _backend._local is not None:
            _backend._local.stop()

    def notices(captured: Any) -> list[str]:
        texts = [str(out.data.get("text/plain", "")) for out in captured.outputs]
        return [t for t in texts if "using the local preview engine" in t]

    [notice] = notices(first)
    assert "no NAIVE_API_KEY set" in notice and "set NAIVE_API_KEY" in notice
    assert "local preview engine" not in first.stderr  # not a pink error block in Jupyter
    assert notices(second) == []  # once per kernel


def test_a_model_without_a_seed_is_never_served_from_cache(
    online: TestingShell, local_server: LocalServer
) -> None:
    first = online.run("%naive a fox --model fal-ai/recraft-v3 --size square")
    second = online.run("%naive a fox --model fal-ai/recraft-v3 --size square")
    assert not second.records[0].from_cache and second.job_ids != first.job_ids
    assert sum(1 for r in local_server.request_log if r.method == "POST") == 2
    # the seed shown is the one the server reported, the one in the file name
    image = second.images[0]
    job = next(j for j in local_server.jobs() if j["id"] == second.job_ids[0])
    reported = job["result"]["seed"]
    assert second.seeds == [reported] and image.seed == reported
    assert image.path.name.startswith(f"1-seed{reported}.")
    text = second._repr_mimebundle_()[0]["text/plain"]
    assert f"seed {reported}" in text and "None" not in text
    assert second._repr_mimebundle_()[1]["naive"]["seeds"] == [reported]


def test_a_second_interrupt_never_leaves_the_progress_ticker_running(
    online: TestingShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted_twice(self: Session, plan: object, *args: object, **kwargs: object) -> None:
        # what escapes when Ctrl-C is pressed again during the cancels: a bare interrupt
        raise KeyboardInterrupt

    monkeypatch.setattr(Session, "run", interrupted_twice)
    online.run("%config NaiveMagics.progress = 'text'")
    with capture_output() as captured, pytest.raises(KeyboardInterrupt):
        online.run("%naive a fox --seed 1 --size square")
    ticking = [t for t in threading.enumerate() if t.name == "naive-nb-progress" and t.is_alive()]
    assert ticking == []
    assert "naive FAILED" in captured.stdout and "interrupted" in captured.stdout
