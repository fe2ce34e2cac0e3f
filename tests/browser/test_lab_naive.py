"""%naive in a real JupyterLab: the live widget bar while the job runs, then a summary and the
grid, all rendered by Chromium. The embedded server runs in the kernel (no key is set)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.frontends import Frontend


def outputs_html(page: Page) -> list[str]:
    return page.eval_on_selector_all(".jp-OutputArea-output", "els => els.map(e => e.innerHTML)")


def test_progress_widget_then_summary_and_grid(lab: Frontend, page: Page) -> None:
    name = lab.write_notebook(
        "naive.ipynb",
        ["%load_ext naive_nb", "%naive a red fox in snow --seed 7 --num 2 --size square"],
    )
    lab.open_and_run(page, name, settle=0)  # returns at once; we watch the run below
    # while the job runs: an ipywidgets progress bar with a status label
    bar = page.wait_for_selector(".widget-hprogress", timeout=60_000)
    assert bar is not None
    label = page.inner_text(".jp-OutputArea-output .widget-html")
    assert any(word in label for word in ("submitting", "queued", "processing")), label
    # when it is done the bar is replaced by the summary, and the grid is shown
    page.wait_for_selector("img[src^='data:image/jpeg']", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.widget-hprogress').length === 0", timeout=30_000
    )
    html = "\n".join(outputs_html(page))
    assert "&#10003;" in html or "\u2713" in html  # the success mark of the summary
    assert html.count("data:image/jpeg") >= 2  # one thumbnail per image
    assert "LOCAL PREVIEW" in page.inner_text(".jp-Notebook")
    assert "<script" not in html and "<style" not in html
    page.screenshot(path=str(lab.root / "naive.png"), full_page=True)


def test_failed_job_turns_the_summary_red_and_fails_the_cell(lab: Frontend, page: Page) -> None:
    name = lab.write_notebook(
        "fail.ipynb", ["%load_ext naive_nb", "%naive this one will [fail] --seed 1"]
    )
    lab.open_and_run(page, name, settle=0)
    # the cell fails with a short message on stderr (no traceback), after the red summary
    page.wait_for_function(
        "() => [...document.querySelectorAll("
        "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
        ".some(e => e.innerText.includes('could not render'))",  # the server's message
        timeout=60_000,
    )
    assert "Traceback" not in page.inner_text(".jp-Notebook")
    html = "\n".join(outputs_html(page))
    assert "#b21818" in html or "rgb(178, 24, 24)" in html  # the summary is red
    assert "fail" in page.inner_text(".jp-Notebook").lower()
    assert page.query_selector_all(".widget-hprogress") == []
    page.screenshot(path=str(lab.root / "fail.png"), full_page=True)
