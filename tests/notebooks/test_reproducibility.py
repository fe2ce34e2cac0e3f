"""The reproducible-research walk-through on a real kernel: a free re-run, a cache-only re-run, a
job collected by ``%naive resume`` after its cell stopped waiting, ``load_run`` from what a run
left, the report. What the server saw says that only new requests were sent (issue 12)."""

from __future__ import annotations

from tests.notebooks.conftest import Run
from tests.notebooks.notebooks import cell, images_shown, texts


def test_each_section_shows_what_it_says(keyless: Run) -> None:
    run = keyless("reproducibility")
    notebook = run.notebook
    assert "naive done: 4 images in" in texts(cell(notebook, "run"))
    rerun = texts(cell(notebook, "rerun"))
    assert "4 from cache: 0 requests, 0 credits" in rerun and "credits spent: 0," in rerun
    cache_only = texts(cell(notebook, "cache-only"))
    assert "4 from cache: 0 requests, 0 credits" in cache_only and "credits spent: 0" in cache_only
    miss = cell(notebook, "cache-miss").outputs[-1]
    assert miss["output_type"] == "error" and "Cache-only: no cached result" in miss["evalue"]
    timeout = cell(notebook, "timeout").outputs
    assert timeout[-1]["output_type"] == "error"
    assert "still running on the server after the 1s deadline" in timeout[-1]["evalue"]
    assert "%naive resume" in timeout[-1]["evalue"]
    jobs = texts(cell(notebook, "jobs"))
    assert "Not yet collected into naive-results" in jobs and "fal-ai/flux/dev" in jobs
    resume = cell(notebook, "resume")
    # collected, and charged: a FLUX Dev image is 1 credit (the summary said "- credits")
    assert "naive done: 1 image in" in texts(resume) and "| 1 credits |" in texts(resume)
    assert "collected" in texts(resume)
    assert max(images_shown(o) for o in resume.outputs) == 1
    loaded = texts(cell(notebook, "load-run"))
    assert "seed (2) x steps (2), 4 jobs on record, from data" in loaded
    assert "as a line: a harbour at night, long exposure --seeds=1,2" in loaded
    assert "credits spent: 0, the same jobs: True" in texts(cell(notebook, "rerun-loaded"))
    sources = texts(cell(notebook, "sources"))
    assert sources.count("the same request and jobs: True") == 2
    assert "from naive-results/" in sources and "from harbour-grid.png" in sources
    assert "wrote reproducibility-report.html" in texts(cell(notebook, "report"))
    report = (run.workdir / "reproducibility-report.html").read_text(encoding="utf-8")
    assert "<script" not in report and "A reproducible run" in report


def test_only_new_jobs_were_sent(canary: Run) -> None:
    """The sweep's 4 jobs and the one left running; the re-runs, the cache-only run and the
    loaded run's re-run sent no job, and resume fetched the one left (no new job)."""
    run = canary("reproducibility")
    posts = [path for method, path in run.requests if method == "POST"]
    assert posts == ["/v1/images/generate"] * 5
