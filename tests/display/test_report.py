"""Issue 12: the study report, one self-contained HTML file (``r.report``, ``naive_nb.report``,
``%naive report``).

A 16-image sweep of 1024 px images made on the embedded server over real HTTP with the canary
key. The file is parsed: no script, no style sheet or link to fetch, every image a ``data:``
URI, no link out of the file, no absolute path, never the key; it holds the labelled grid, and
each cell's request, seed, job id, credits, dates, backend and version. Its images fit the
stated budget. Headless Chromium opens it from disk with the network refused: every image
decodes at a natural width, and a screenshot goes to ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Route, sync_playwright

import naive_nb
from naive_nb.client import Client
from naive_nb.display.report import REPORT_SIZES, report_html
from naive_nb.display.result import NaiveResult
from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook.study import LoadRunError, load_run
from naive_nb.run import Request, Session, Settings
from naive_nb.run.axes import axis_from_spec
from naive_nb.run.runs import run_id
from tests.browser.frontends import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell, _isolated, ip, online  # noqa: F401  (fixtures)

PROMPT = "a lighthouse at dusk"
SIXTEEN = Request(PROMPT, seeds=(1, 2, 3, 4), axes=(axis_from_spec("steps=1,2,3,4"),))


@dataclass
class Study:
    server: LocalServer
    session: Session
    result: NaiveResult
    root: Path
    reports: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    """A 4x4 sweep (seeds x steps) of 1024 px images, and its report."""
    root = tmp_path_factory.mktemp("study")
    with (
        serve_local(api_key=CANARY_KEY, time_scale=0.01, spread=0.2, rate_limit=None) as server,
        Client(CANARY_KEY, base_url=server.url) as client,
    ):
        session = Session(Settings(store=root / "naive-results"), client, progress_interval=0.0)
        outcome = session.run(session.plan(SIXTEEN))
        assert outcome.ok and len(outcome.records) == 16
        result = NaiveResult(outcome)
        made = Study(server, session, result, root)
        made.reports["sixteen"] = result.report(root / "reports" / "study.html")
        yield made


class Page(HTMLParser):
    """Every tag with its attributes, and the text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def check_self_contained(path: Path, root: Path) -> Page:
    """What every report must be: one file that needs nothing else and leaks nothing."""
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>") and page.all("meta")[0] == {"charset": "utf-8"}
    for tag in ("script", "style", "link", "iframe", "object", "embed", "base", "form"):
        assert page.all(tag) == [], tag
    images = page.all("img")
    assert images and all(img["src"].startswith("data:image/jpeg;base64,") for img in images)
    for _, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), name  # no inline script either
            assert not re.match(r"\s*(https?:|//|file:|javascript:)", value), (name, value[:80])
            if name == "href":
                assert value.startswith("#run-"), value  # only the report's own sections
    assert "url(" not in text  # nothing fetched by a style either
    assert CANARY_KEY not in text
    assert str(root) not in text and str(Path.home()) not in text  # no path of the machine
    return page


def test_the_report_is_one_self_contained_file(study: Study) -> None:
    path = study.reports["sixteen"]
    page = check_self_contained(path, study.root)
    assert len(page.all("img")) == 16
    words = page.words
    # the labelled grid (the notebook's renderer), and the run's facts
    for label in ("seed 1", "seed 4", "steps 1", "steps 4", "LOCAL PREVIEW"):
        assert label in words, label
    outcome = study.result.outcome
    assert "16 images over seed (4) x steps (4)" in words
    assert f"run record {run_id(outcome)} (../naive-results/_runs/{run_id(outcome)}.json)" in words
    assert f"naive-nb {naive_nb.__version__}" in words
    assert "1.92 when the jobs were made" in words  # 16 jobs of 0.12 credits
    # each cell: its request, seed, job id, credits, dates, backend, version and files
    for cell in outcome.cells():
        record = cell.result
        assert record is not None and record.job_id in words
        sent = json.dumps(cell.job.input, sort_keys=True, ensure_ascii=False)
        assert f"input sent: {sent}" in words
        assert record.created is not None and record.created[:19].replace("T", " ") in words
        for image in record.files:  # relative to the report's folder
            assert f"file ../naive-results/{record.job_id}/{image.path.name}" in words
            assert f"sha256 {image.sha256}" in words
    assert f"backend {outcome.records[0].backend} | naive-nb {naive_nb.__version__}" in words
    # the request as JSON, which gives the sweep back
    spec = re.search(r'<pre style="[^"]*">(\{.*?\})</pre>', path.read_text(), re.S)
    assert spec is not None
    plan = outcome.plan
    assert plan is not None
    assert Request.from_json(json.loads(html.unescape(spec.group(1)))) == plan.resolved


def test_the_images_fit_the_stated_budget(study: Study) -> None:
    text = study.reports["sixteen"].read_text()
    images = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', text)
    decoded = sum(len(data) * 3 // 4 for data in images)
    embedded = sum(len(data) for data in images)
    assert embedded <= REPORT_SIZES.budget(16)  # 1.2 MB for 16 images
    total = len(text.encode())
    # measured, for the report: bytes of the file and of its images
    print(f"16-image report: {total:,} bytes; images {embedded:,} as base64 ({decoded:,} JPEG)")
    assert total < embedded + 200_000  # the tables are small beside the images


def test_the_budget_is_shared_by_the_runs_of_a_report(study: Study) -> None:
    full = report_html([study.result])
    small = report_html([study.result, study.result.select(seed=[1, 2])], budget=300_000)
    sizes = [sum(len(d) for d in re.findall(r"base64,([^\"]+)", text)) for text in (full, small)]
    assert sizes[1] <= 300_000 < sizes[0]


def test_chromium_shows_every_image_offline(study: Study) -> None:
    path = study.reports["sixteen"]
    fetched: list[str] = []

    def refuse(route: Route) -> None:
        fetched.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.route(re.compile(r"^(https?|wss?|ftp)://"), refuse)
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "() => [...document.images].map(i => ({complete: i.complete,"
                " natural: i.naturalWidth, shown: i.getBoundingClientRect().width}))"
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report-16.png"), full_page=False)
            page.screenshot(path=str(ARTIFACTS / "report-16-full.png"), full_page=True)
        finally:
            browser.close()
    assert fetched == []
    assert len(images) == 16
    for image in images:
        assert image["complete"] and image["natural"] > 0
        # sized for reading: four across a 960 px column, sharper than 1x
        assert 200 <= image["shown"] <= 240 and image["natural"] >= 1.4 * image["shown"]


def test_a_failed_cell_is_in_the_report_with_its_reason(study: Study, tmp_path: Path) -> None:
    with Client(CANARY_KEY, base_url=study.server.url) as client:
        session = Session(Settings(store=tmp_path / "store", image_size="square"), client)
        # the embedded server fails every job whose prompt holds "[fail]"
        request = Request(
            "a calm lake", seeds=(5,), axes=(axis_from_spec("prompt:calm=calm,[fail]"),)
        )
        result = NaiveResult(session.run(session.plan(request)))
    path = result.report(tmp_path / "failed.html")
    page = check_self_contained(path, tmp_path)
    words = page.words
    assert len(page.all("img")) == 1
    assert "2 jobs (1 made, 0 from the store, 1 without an image)" in words
    failure = result.failures[0]
    assert failure.job_id is not None and failure.job_id in words
    assert f"failed: {failure.reason}" in words


def test_a_report_of_a_kernel_sessions_runs_lists_each_run_once(
    study: Study, tmp_path: Path
) -> None:
    with Client(CANARY_KEY, base_url=study.server.url) as client:
        session = Session(Settings(store=tmp_path / "store", image_size="square"), client)
        first = session.run(session.plan(Request("a red fox in snow", seeds=(1, 2))))
        session.run(session.plan(Request("a red fox in snow", seeds=(1, 2))))  # from the store
        second = session.run(session.plan(Request("a whale at sea", seeds=(7,))))
        assert len(session.history) == 3
        path = naive_nb.report(tmp_path / "session.html", session=session, title="Two studies")
    page = check_self_contained(path, tmp_path)
    words = page.words
    assert [a["href"] for a in page.all("a")] == ["#run-1", "#run-2"]
    assert words.startswith("Two studies Two studies Made by naive-nb")
    assert "1. a red fox in snow" in words and "2. a whale at sea" in words
    assert "2 runs, 3 images, 3 jobs" in words
    assert "0.36 credits when made" in words
    for outcome in (first, second):
        for job in outcome.job_ids:
            assert job in words


def test_a_saved_notebooks_runs_are_reported_from_the_store_with_no_request(
    study: Study, tmp_path: Path
) -> None:
    data, metadata = study.result._repr_mimebundle_()
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("%naive a lighthouse at dusk --seeds 1-4 --steps 1-4")
    cell.outputs = [nbformat.v4.new_output("execute_result", data, metadata=metadata)]
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "study.ipynb")
    before = len(study.server.request_log)
    path = naive_nb.report(
        tmp_path / "from-notebook.html", notebook=tmp_path / "study.ipynb", session=study.session
    )
    assert len(study.server.request_log) == before
    page = check_self_contained(path, study.root)
    assert len(page.all("img")) == 16
    assert "16 jobs (0 made, 16 from the store)" in page.words
    assert "1.92 when the jobs were made; 0 spent by the run shown" in page.words
    # a notebook whose files are not in the store is refused, naming what is missing
    other = Session(Settings(store=tmp_path / "empty"), study.session.client)
    with pytest.raises(LoadRunError, match="its files are not in the store empty/"):
        naive_nb.report(tmp_path / "x.html", notebook=tmp_path / "study.ipynb", session=other)
    assert not (tmp_path / "x.html").exists()


def test_naive_report_in_a_notebook(
    online: TestingShell,  # noqa: F811  (the magic tests' fixture)
    local_server: LocalServer,
) -> None:
    online.run("%config NaiveMagics.size = 'square'")
    online.run("r = %naive a lighthouse at dusk --seeds 1,2 --steps 1,2")
    online.run("%naive a whale at sea --seed 3")
    online.run("%naive a lighthouse at dusk --seeds 1,2 --steps 1,2")  # again, from the store
    _, captured = online.capture("%naive report study.html --title 'Lighthouses and whales'")
    path = Path("study.html").resolve()
    assert "naive: wrote study.html" in captured.outputs[0].data["text/plain"]
    page = check_self_contained(path, path.parent.parent)
    assert [a["href"] for a in page.all("a")] == ["#run-1", "#run-2"]
    assert len(page.all("img")) == 5
    assert "Lighthouses and whales" in page.words
    # r.report() and load_run of the output the magic showed
    online.run("r.report('one.html')")
    assert len(check_self_contained(Path("one.html").resolve(), path.parent).all("img")) == 4
    bundle = online.ns["r"]._repr_mimebundle_()
    assert load_run({"metadata": bundle[1]}).request == online.ns["r"].outcome.plan.resolved
    # usage errors are short and fail the cell
    for line, message in (
        ("%naive report", "takes the path of the HTML file to write"),
        ("%naive report a b", "takes the path of the HTML file to write"),
        ("%naive report x.html --from missing.ipynb", "no such notebook: missing.ipynb"),
    ):
        with pytest.raises(Exception, match=message) as failed:
            online.run(line)
        assert type(failed.value).__name__ == "NaiveUsageError"


def test_naive_report_with_no_run_yet_says_so(online: TestingShell) -> None:  # noqa: F811
    with pytest.raises(Exception, match="this kernel session has run nothing yet"):
        online.run("%naive report study.html")
    assert not Path("study.html").exists()
