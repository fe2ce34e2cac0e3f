"""Compare grids of sweeps run on the embedded server over real HTTP: the same sweep twice gives
byte-identical tiles and the same composite; a job the server fails is a labelled tile in its
place; laying the result out again sends nothing."""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from naive_nb.client import Client
from naive_nb.display.composite import FAILED_FILL, CompositeStyle, frame
from naive_nb.display.figure import read_saved_grid
from naive_nb.display.result import NaiveResult
from naive_nb.local import LocalServer
from naive_nb.run import Axis, Request, Session, Settings
from naive_nb.run.outcome import Outcome
from tests.conftest import CANARY_KEY

JPEG = re.compile(r"data:image/jpeg;base64,([^\"]+)")

SWEEP = Request(
    "a lighthouse at dusk",
    params={"image_size": "square"},
    seeds=(1, 2),
    axes=(
        Axis("num_inference_steps", (1, 4), "steps"),
        Axis("model", ("fal-ai/flux/schnell", "fal-ai/flux/dev")),
    ),
)


@pytest.fixture
def client(local_server: LocalServer) -> Iterator[Client]:
    with Client(CANARY_KEY, base_url=local_server.url) as made:
        yield made


def _run(root: Path, client: Client, request: Request = SWEEP) -> Outcome:
    session = Session(Settings(store=root), client, progress_interval=0.0)
    return session.run(session.plan(request))


def _pixels(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.convert("RGB").tobytes()


def _idat(path: Path) -> bytes:
    data, at, found = path.read_bytes(), 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            found += data[at + 8 : at + 8 + length]
        at += 12 + length
    return found


def test_the_same_sweep_twice_gives_identical_tiles_and_the_same_composite(
    client: Client, local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = _run(Path("a"), client), _run(Path("b"), client)
    ids = {r.job_id for r in first.records} | {r.job_id for r in second.records}
    assert len(ids) == 16  # two real runs: eight jobs each, none shared
    for one, other in zip(first.records, second.records, strict=True):
        assert one.input == other.input
        # the server's pixels are the same; each stored file stamps its own job id
        assert _pixels(one.files[0].path) == _pixels(other.files[0].path)
    a, b = NaiveResult(first), NaiveResult(second)
    # the tiles embedded in the notebook, byte for byte (only the links differ: a/... b/...)
    tiles_a = JPEG.findall(a._repr_mimebundle_()[0]["text/html"])
    tiles_b = JPEG.findall(b._repr_mimebundle_()[0]["text/html"])
    assert len(tiles_a) == 8 and len(set(tiles_a)) == 8
    assert tiles_a == tiles_b
    # a tile is pixels only: the stored file's comment (job id, the server's port) stays out
    for tile in tiles_a:
        data = base64.b64decode(tile)
        assert b"\xff\xfe" not in data.split(b"\xff\xda", 1)[0] and b"naive" not in data
    assert a.grid().image.tobytes() == b.grid().image.tobytes()
    a.grid().save("a.png")
    b.grid().save("b.png")
    assert _idat(Path("a.png")) == _idat(Path("b.png"))  # the same picture, compressed alike
    # and the same store shows the same file: a cached re-run saves the PNG byte for byte
    requests = len(local_server.request_log)
    again = NaiveResult(_run(Path("a"), client))
    assert len(local_server.request_log) == requests  # from the cache, nothing sent
    again.grid().save("again.png")
    assert Path("again.png").read_bytes() == Path("a.png").read_bytes()


def test_a_job_the_server_fails_is_a_labelled_tile_in_its_place(
    client: Client, tmp_path: Path
) -> None:
    # the embedded server fails every prompt containing "[fail]": one column of the grid
    replace = Axis("prompt", ("dusk", "[fail]"), "prompt", kind="replace", search="dusk")
    request = Request(
        "a lighthouse at dusk", params={"image_size": "square"}, seeds=(1, 2, 3), axes=(replace,)
    )
    outcome = _run(tmp_path, client, request)
    assert len(outcome.records) == 3 and len(outcome.failures) == 3
    result = NaiveResult(outcome)
    layout = result.layout()
    assert [len(row) for row in layout.rows] == [3, 3]
    failed = [tile for tile in layout.tiles if tile.failed]
    assert len(failed) == 3 and all(tile.code == "failed" and tile.job_id for tile in failed)
    html = result._repr_mimebundle_()[0]["text/html"]
    for tile in failed:
        assert f"<small>job {tile.job_id}</small>" in html
    assert html.count("(injected failure)") == 3
    grid = result.grid()
    f = frame(grid.layout, CompositeStyle())
    left = f.pad + f.row_header_width + f.margin
    for c in range(3):  # the second row ("[fail]"): grey blanks where the images would be
        x, y = left + c * (f.cell[0] + f.margin) + f.cell[0] // 2, f.row_tops[1] + f.cell[1] // 2
        assert grid.image.getpixel((x, y)) == FAILED_FILL
    assert [t["status"] for t in grid.spec()["tiles"]].count("failed") == 3


def test_laying_a_result_out_again_sends_nothing(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    result = NaiveResult(_run(tmp_path / "store", client))
    before = len(local_server.request_log)
    for grid in (
        result.grid(rows="model", cols="seed"),
        result.grid(z="steps").T,
        result.grid(where={"model": ["flux/dev"], "seed": [2]}),
    ):
        grid._repr_mimebundle_()
        grid.save(tmp_path / "grid.png", scale=0.25)
        assert read_saved_grid(tmp_path / "grid.png") is not None
    assert len(local_server.request_log) == before


def test_a_colleagues_copy_without_the_store_still_draws_the_grid(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = _run(Path("store"), client)
    for record in outcome.records:
        for image in record.files:
            image.path.unlink()
    result = NaiveResult(outcome)
    grid = result.grid()
    assert all(tile.code == "file_missing" for tile in grid.layout.tiles)
    assert "file missing: store/" in result._repr_mimebundle_()[0]["text/html"]
    f = frame(grid.layout, CompositeStyle())
    assert f.image == (512, 512)  # the size the record says, though the file is gone
    centre = (f.pad + f.row_header_width + f.margin + 256, f.row_tops[0] + 256)
    assert grid.image.getpixel(centre) == FAILED_FILL
