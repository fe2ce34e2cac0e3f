"""The panel end to end, in JupyterLab 4 and in Notebook 7 (Debian Chromium, as a user clicks).

One notebook per front end: type a prompt, pick seeds, Generate; run another cell while the job
runs and see it finish first (the kernel is free); see the tiles load; open a tile's large view;
reuse a seed; cancel a slow job and see the server cancelled it; save, shut the kernel down,
reopen, and see the record the panel left (the live widget is gone with its kernel). The
embedded server runs in the kernel; its job times are stretched from a cell (``Timing``), so a
job lasts long enough to watch. Screenshots go to ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import nbformat
import pytest
from nbconvert import HTMLExporter
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from naive_nb.notebook.panel.words import PANEL_TEXT, closed
from tests.browser.frontends import ARTIFACTS, Frontend, chromium_page, jupyter_server

SETUP = (
    "%load_ext naive_nb\n"
    "import naive_nb\n"
    "from naive_nb.client._backend import local_server\n"
    "server = local_server(print)\n"
    "server.timing.slow_rate = 1.0\n"
    "server.timing.slow_factor = 16.0  # a job lasts ~4 s: long enough to run a cell meanwhile"
)
PANEL = "panel = naive_nb.Panel()\npanel"
OTHER = "print('the other cell ran')"
SLOW = "server.timing.slow_factor = 1000.0  # minutes: this one will be cancelled"
SERVER_SAYS = "print('server says:', server.jobs()[-1]['status'])"
CLOSE = "panel.close()"
CELLS = [SETUP, PANEL, OTHER, SLOW, SERVER_SAYS, CLOSE]
OPEN_COPY = "panel-saved-open.ipynb"
CLOSED = closed(2)  # what close() leaves where the panel was
SEEDS = "input[placeholder='empty: one random seed']"
TILES = ".widget-gridbox > .widget-vbox"
STATUS_IS_PROGRESS = (
    "() => [...document.querySelectorAll('.widget-html code')]"
    ".some(c => /submitting|queued|processing|running/.test(c.textContent))"
)


@pytest.fixture(params=["lab", "notebook"])
def frontend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Frontend]:
    kind = request.param
    with jupyter_server(
        kind, tmp_path_factory.mktemp(kind), tmp_path_factory.mktemp("home")
    ) as running:
        yield running


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with chromium_page({"width": 1280, "height": 1600}) as page:
        yield page


def shot(page: Page, kind: str, step: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"panel-{kind}-{step}.png"), full_page=True)


PROMPTS = "[...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"


def run_cell(page: Page, index: int) -> None:
    """Run code cell ``index`` as a user does (click into it, Ctrl+Enter) and wait until it
    has started: its prompt changes. Tried again if a re-render swallowed the click."""
    before = page.evaluate(f"() => {PROMPTS}[{index}].textContent")
    for _ in range(3):
        page.locator(".jp-CodeCell .jp-InputArea-editor").nth(index).click()
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_function(
                f"(before) => {PROMPTS}[{index}].textContent !== before", arg=before, timeout=10_000
            )
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"cell {index} did not run")


def rerun(page: Page, index: int) -> None:
    """Run code cell ``index`` and wait until it has finished (its new execution count)."""
    run_cell(page, index)
    page.wait_for_function(
        f"() => /\\[\\d+\\]/.test({PROMPTS}[{index}].textContent)", timeout=30_000
    )


def loaded_tiles(page: Page) -> int:
    images = f"[...document.querySelectorAll('{TILES} img')]"
    return int(page.evaluate(f"() => {images}.filter(i => i.naturalWidth > 0).length"))


def test_the_panel_end_to_end(frontend: Frontend, browser_page: Page) -> None:
    try:
        the_panel_end_to_end(frontend, browser_page)
    except Exception:
        for number, page in enumerate(browser_page.context.pages):
            shot(page, frontend.kind, f"failed-{number}")  # what the page showed, to look at
        raise


def the_panel_end_to_end(frontend: Frontend, browser_page: Page) -> None:
    page, kind = browser_page, frontend.kind
    name = frontend.write_notebook("panel.ipynb", CELLS)
    frontend.open(page, name)
    rerun(page, 0)
    rerun(page, 1)
    page.wait_for_selector("button:has-text('Generate')", timeout=60_000)

    # type a prompt, pick seeds, Generate
    page.locator(".widget-textarea textarea").first.fill("a lighthouse at dusk")
    page.fill(SEEDS, "1-4")
    page.keyboard.press("Tab")  # the seeds field sends its value when it loses focus
    page.wait_for_function(
        "() => document.body.innerText.includes('4 images x 0.12 = 0.48 credits')", timeout=30_000
    )
    shot(page, kind, "1-ready")
    page.click("button:has-text('Generate')")
    page.wait_for_function(STATUS_IS_PROGRESS, timeout=30_000)

    # another cell runs, and finishes, while the panel's job still runs
    run_cell(page, 2)
    page.wait_for_function(
        "() => document.body.innerText.includes('the other cell ran')", timeout=30_000
    )
    assert loaded_tiles(page) == 0  # the job was still running when the cell had finished
    assert page.evaluate(STATUS_IS_PROGRESS)
    shot(page, kind, "2-running")

    # the tiles load: four thumbnails, each with its seed
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{TILES} img')]"
        ".filter(i => i.naturalWidth > 0).length === 4",
        timeout=60_000,
    )
    captions = page.eval_on_selector_all(f"{TILES} b", "bs => bs.map(b => b.textContent)")
    assert captions == ["seed 1", "seed 2", "seed 3", "seed 4"]
    assert "naive done: 4 images" in page.inner_text(".jp-Notebook")
    shot(page, kind, "3-tiles")

    # a tile's large view: the full-size file, its seed and job
    page.click(f"{TILES}:nth-child(2) button:has-text('view')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-image')].some(i => i.naturalWidth >= 1024)",
        timeout=30_000,
    )
    viewer_text = page.inner_text(".jp-Notebook")
    assert "2. seed 2" in page.eval_on_selector_all(
        ".widget-dropdown select",
        "ss => ss.map(s => s.selectedOptions[0]?.textContent.replace(/\\s/g, ' ')).join('|')",
    )
    assert "sha256" in viewer_text and "Save a copy" in viewer_text
    shot(page, kind, "4-viewer")

    # reuse a seed: tile 3's seed into the seeds field
    page.click(f"{TILES}:nth-child(3) button:has-text('seed')")
    page.wait_for_function(
        f"() => document.querySelector(\"{SEEDS}\").value === '3'", timeout=10_000
    )

    # a slow job, cancelled from the panel, is cancelled on the server
    rerun(page, 3)
    page.locator(".widget-textarea textarea").first.fill("a slow lighthouse")
    page.click("button:has-text('Generate')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-html code')]"
        ".some(c => /processing/.test(c.textContent))",
        timeout=30_000,
    )
    page.click("button:has-text('Cancel')")
    page.wait_for_function(
        "() => document.body.innerText.includes('Cancelled on the server: job')", timeout=30_000
    )
    run_cell(page, 4)
    page.wait_for_function(
        "() => document.body.innerText.includes('server says: cancelled')", timeout=30_000
    )
    shot(page, kind, "5-cancelled")

    # save with the panel open, and again after panel.close()
    saved = save(page, frontend, name, lambda nb: nb.cells[4].get("execution_count"))
    check_saved(saved)
    shutil.copy(frontend.root / name, frontend.root / OPEN_COPY)
    html, _ = HTMLExporter().from_notebook_node(saved)  # nbconvert, as GitHub: no widget state
    assert html.count(PANEL_TEXT) == 1 and html.count("data:image/jpeg") == 4
    rerun(page, 5)
    closed = save(page, frontend, name, lambda nb: nb.cells[5].get("execution_count"))
    widget_output, _ = check_saved(closed, open_panel=False)
    # close() replaced the widget by a line of text, by its display id
    assert "application/vnd.jupyter.widget-view+json" not in widget_output.data

    # shut the kernel down and reopen both copies: the record stays
    for session in httpx.get(f"{frontend.url}/api/sessions", timeout=10).json():
        httpx.delete(f"{frontend.url}/api/sessions/{session['id']}", timeout=30)
    page.close()
    for copy, step in ((OPEN_COPY, "6-reopened-open"), (name, "7-reopened-closed")):
        reopened = browser_page.context.new_page()
        frontend.open(reopened, copy)
        reopened.wait_for_function(
            "() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
            ".filter(i => i.src.startsWith('data:image/jpeg') && i.naturalWidth > 0).length === 4",
            timeout=60_000,
        )
        text = reopened.inner_text(".jp-Notebook")
        assert "naive-nb panel, run 1" in text and "naive-nb panel, run 2" in text
        assert "Cancelled on the server: job" in text
        if copy == OPEN_COPY:
            # saved while open: with its kernel gone, the front end says the widget is missing
            missing = "Error displaying widget: model not found"
            reopened.wait_for_function(
                "(missing) => document.body.innerText.includes(missing)",
                arg=missing,
                timeout=60_000,
            )
        else:
            assert "Error displaying widget" not in text
            assert CLOSED in text
        shot(reopened, kind, step)
        reopened.close()


def save(page: Page, frontend: Frontend, name: str, ready: Callable[[Any], object]) -> Any:
    """Save from the front end (Ctrl+S); the notebook as written once ``ready(notebook)``."""
    path = frontend.root / name
    before = path.stat().st_mtime_ns
    page.click(".jp-Notebook .jp-InputPrompt")  # focus the notebook, not an output
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            notebook = nbformat.read(path, as_version=4)
            if ready(notebook):
                return notebook
        time.sleep(0.2)
    raise AssertionError(f"{name} was not saved as expected")


def check_saved(notebook: Any, *, open_panel: bool = True) -> tuple[Any, Any]:
    """The panel's two outputs as saved: the widget (with a readable text/plain; a line of text
    once closed) and the record (every run, newest first, with its images and provenance)."""
    panel_outputs = [o for o in notebook.cells[1].outputs if o.output_type == "display_data"]
    widget_output, record_output = panel_outputs[-2:]
    assert widget_output.data["text/plain"] == (PANEL_TEXT if open_panel else CLOSED)
    record = record_output.data
    assert record["text/plain"].index("panel, run 2") < record["text/plain"].index("panel, run 1")
    assert record["text/html"].count("data:image/jpeg") == 4
    assert len(record_output.metadata["naive_panel"]["runs"][0]["job_ids"]) == 4
    return widget_output, record_output
