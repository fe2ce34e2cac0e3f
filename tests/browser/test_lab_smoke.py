"""The browser harness itself: JupyterLab runs a notebook and renders a widget in Chromium."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.frontends import Frontend


def test_jupyterlab_runs_a_notebook_and_renders_widgets(lab: Frontend, page: Page) -> None:
    name = lab.write_notebook(
        "smoke.ipynb",
        ["import ipywidgets as w\nw.IntProgress(value=7, max=10, description='x')", "print('hi')"],
    )
    lab.open_and_run(page, name)
    bar = page.wait_for_selector(".widget-hprogress .progress-bar", timeout=30_000)
    assert bar is not None
    assert "width: 70%" in (bar.get_attribute("style") or "")
    outputs = page.eval_on_selector_all(".jp-OutputArea-output", "els => els.map(e => e.innerText)")
    assert outputs[-1].strip() == "hi"


def test_no_event_loop_is_left_running_for_later_tests() -> None:
    """Runs after a browser test in this module: Playwright must have let go of the loop."""
    import asyncio

    async def answer() -> int:
        return 42

    assert asyncio.run(answer()) == 42
