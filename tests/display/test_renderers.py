"""Grids, progress and provenance: pure data in, mime bundles out."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from naive_nb.display.grid import (
    LOCAL_PREVIEW_LABEL,
    GridLayout,
    GridSizes,
    Tile,
    composite,
    grid_bundle,
)
from naive_nb.display.progress import progress_bundle, progress_text, summary_bundle
from naive_nb.display.provenance import output_metadata
from naive_nb.notebook.progress import ProgressView
from naive_nb.run.events import JobProgress, RunProgress, Summary
from naive_nb.run.records import JobRecord, StoredImage


def _photo_like(seed: int, side: int = 1024) -> bytes:
    """Noisy content compresses like a photograph, not like flat colour (the worst case)."""
    noise = Image.effect_noise((side // 4, side // 4), 60 + seed).convert("RGB")
    image = noise.resize((side, side), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sixteen() -> list[Tile]:
    return [
        Tile(
            caption=f"seed {s}",
            data=_photo_like(s),
            seed=s,
            width=1024,
            height=1024,
            path=f"r/{s}.jpg",
        )
        for s in range(16)
    ]


def test_a_4x4_grid_of_1024px_images_fits_the_notebook_budget(sixteen: list[Tile]) -> None:
    layout = GridLayout.wrapped("model | square_hd | 'a fox'", sixteen)
    bundle = grid_bundle(layout)
    added = len(json.dumps(bundle))
    assert added <= 300_000, added
    # issue 9: the composite is no longer in the bundle (no front end shows it); result.grid()
    assert "image/jpeg" not in bundle
    assert max(composite(layout).size) <= 1024


def test_layout_and_failed_tile(sixteen: list[Tile]) -> None:
    tiles = [*sixteen[:3], Tile(caption="seed 3", error="provider_error: rejected", seed=3)]
    layout = GridLayout.wrapped("title", tiles, local_preview=True)
    assert [len(row) for row in layout.rows] == [4]
    image = composite(layout, GridSizes(composite_side=512))
    assert image.width <= 512
    # the failed tile is a light grey block, not a photo and not a hole
    tile = (image.width - 2) // 4
    x = 3 * tile + tile // 2
    y = image.height // 2
    assert image.getpixel((x, y)) == (236, 236, 236)
    bundle = grid_bundle(layout)
    assert "FAILED: provider_error: rejected" in bundle["text/plain"]
    assert "failed</b><br>provider_error: rejected" in bundle["text/html"]
    assert LOCAL_PREVIEW_LABEL in bundle["text/plain"]
    assert LOCAL_PREVIEW_LABEL in bundle["text/html"]


def test_html_uses_inline_attributes_only_and_escapes_text(sixteen: list[Tile]) -> None:
    tiles = [Tile(caption="<b>seed</b> & 1", data=sixteen[0].data, seed=1, path="a b/1.jpg")]
    html = grid_bundle(GridLayout.wrapped("<script>alert(1)</script>", tiles))["text/html"]
    assert "<script" not in html and "<style" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;seed&lt;/b&gt; &amp; 1" in html
    assert html.count("data:image/jpeg;base64,") == 1
    assert 'href="a b/1.jpg"' in html


def test_two_axis_layout_has_headers(sixteen: list[Tile]) -> None:
    layout = GridLayout(
        title="t",
        rows=((sixteen[0], sixteen[1]), (sixteen[2], None)),
        column_headers=("seed 1", "seed 2"),
        row_headers=("image 1", "image 2"),
    )
    html = grid_bundle(layout)["text/html"]
    # issue 9: headers are bold <td>s (front-end stylesheets restyle <th>)
    assert html.index("<b>seed 1</b>") < html.index("<b>seed 2</b>") < html.index("<b>image 2</b>")
    assert composite(layout).width <= 1024


def test_undecodable_image_becomes_a_failed_tile() -> None:
    bundle = grid_bundle(GridLayout.wrapped("t", [Tile(caption="seed 1", data=b"junk")]))
    assert "could not be decoded" in bundle["text/html"]


def test_progress_states_and_summaries() -> None:
    job = JobProgress(
        "processing", job_id="1234567890", progress=45, estimated_seconds=8, estimated_credits=0.24
    )
    one = RunProgress((job,), elapsed=3.2)
    text = progress_text(one)
    assert "processing 45%" in text and "3.2s / ~8s" in text
    assert "id 12345678" in text and "~0.24 credits" in text
    assert set(progress_bundle(one)) == {"text/plain", "text/html"}
    # a run of several jobs says where the whole run is (issue 8), not "job 2/4"
    done = JobProgress("done", job_id="a", estimated_credits=0.24, credits_used=0.24)
    waiting = JobProgress("queued", job_id="c", estimated_credits=0.24)
    run = RunProgress((done, job, waiting, JobProgress("waiting")), elapsed=3.2)
    text = progress_text(run)
    assert "1 running, 1 of 4 done, 2 waiting" in text and "0.24 of ~0.72 credits" in text
    assert RunProgress((waiting, JobProgress("waiting"))).fraction == 0.0
    # the clock moves a running job on between polls, and never claims it done
    late = RunProgress((JobProgress("processing", estimated_seconds=8, since=0.0),), 100.0)
    assert 0.9 < late.fraction < 1.0 and "100%" not in progress_text(late)
    ok = summary_bundle(
        Summary(ok=True, seconds=2.0, images=4, credits=0.48, job_ids=("abcdefghij",))
    )
    assert ok["text/plain"] == "naive done: 4 images in 2.0s | 0.48 credits | jobs abcdefgh"
    assert "#1a7f37" in ok["text/html"]
    bad = summary_bundle(Summary(ok=False, seconds=1.0, job_ids=("x",), message="job x failed"))
    assert bad["text/plain"].startswith("naive FAILED") and "#b21818" in bad["text/html"]


def test_provenance_metadata(tmp_path: Path) -> None:
    image = StoredImage(
        tmp_path / "job" / "1.png", "ab" * 32, 1024, 1024, "image/png", 42, 0, "job"
    )
    record = JobRecord(
        job_id="job",
        model="fal-ai/flux/dev",
        input={"prompt": "a fox", "seed": 42},
        cache_key="k",
        backend="api.usenaive.ai",
        local_preview=False,
        credits_used=0.5,
        created="c",
        completed="d",
        files=(image,),
    )
    naive = output_metadata([record], base=tmp_path)["naive"]
    assert naive["model"] == "fal-ai/flux/dev"
    assert naive["seeds"] == [42] and naive["job_ids"] == ["job"] and naive["credits"] == 0.5
    assert naive["backend"] == "api.usenaive.ai" and naive["version"]
    assert naive["jobs"][0]["files"][0] == {
        "path": "job/1.png",
        "sha256": "ab" * 32,
        "width": 1024,
        "height": 1024,
        "content_type": "image/png",
    }
    assert naive["jobs"][0]["input"] == {"prompt": "a fox", "seed": 42}


def test_a_notice_reads_in_the_text_html_and_widget_progress() -> None:
    job = JobProgress("processing", job_id="abcdef123", progress=40.0, estimated_seconds=8.0)
    state = RunProgress((job,), elapsed=3.0)
    paused = replace(state, notice="rate limited, resuming in 61 s")
    text = progress_text(paused)
    assert "processing 40% (rate limited, resuming in 61 s) | 3.0s / ~8s" in text
    assert "rate limited" not in progress_text(state)
    assert "rate limited, resuming in 61 s" in progress_bundle(paused)["text/html"]
    # the widget's label is the HTML line's text; the view shows a notice until the next update
    view = ProgressView("widget")
    view.started = True  # a bar and a label of its own, not a display
    view._bar = SimpleNamespace(value=0.0)
    view._label = SimpleNamespace(value="")
    view.update(state)
    view.notice("rate limited, resuming in 61 s")
    assert "rate limited, resuming in 61 s" in view._label.value
    view.update(replace(state, jobs=(replace(job, status="done", progress=100.0),)))
    assert "rate limited" not in view._label.value and "completed" in view._label.value


def test_the_bar_is_full_only_when_every_job_is_done() -> None:
    # three jobs finished on the server and downloading, one stored: 3 running, 1 of 4 done
    from naive_nb.display.progress import progress_bundle
    from naive_nb.run.events import JobProgress, RunProgress

    downloading = tuple(JobProgress("downloading", job_id=f"j{n}") for n in range(3))
    jobs = (JobProgress("done"), *downloading)
    run = RunProgress(jobs, elapsed=5.0)
    bundle = progress_bundle(run)
    assert "#" * 24 not in bundle["text/plain"]
    assert 'value="100"' not in bundle["text/html"]
    finished = RunProgress(tuple(JobProgress("done") for _ in range(4)), elapsed=5.0)
    assert "#" * 24 in progress_bundle(finished)["text/plain"]
