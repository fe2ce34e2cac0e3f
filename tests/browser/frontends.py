"""JupyterLab 4 and Notebook 7 servers for the display tests, and what they render, measured.

The servers are started like the ``lab`` fixture in ``conftest.py`` (no token, no news, app
exposed as ``window.jupyterapp``), with the embedded server's time scale turned down: these tests
look at results, not at progress. Notebook 7 is the same front-end code as Lab in another shell,
so one set of helpers drives both, through the page as a user would (only the URL of a
notebook differs): Notebook 7 served this way left ``exposeAppInBrowser`` false in its page
config whatever we set, so no script reaches its app object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nbformat
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import _free_port, _lab_env

ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots (git-ignored)

# every rendered result image, per output, with what the grid needs to be judged
MEASURE_RESULTS = """
(root) => [...root.querySelectorAll(OUTPUT)]
  .filter(o => o.querySelector('img[src^="data:image/jpeg"]'))
  .map(o => {
    const box = e => { const r = e.getBoundingClientRect();
      return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
              width: r.width, height: r.height}; };
    const style = getComputedStyle(o);
    const table = o.querySelector('table');
    return {
      output: box(o),
      contentRight: o.getBoundingClientRect().right - parseFloat(style.paddingRight || '0'),
      table: box(table),
      images: [...o.querySelectorAll('img[src^="data:image/jpeg"]')].map(i => ({
        ...box(i), naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
        alt: i.alt, href: i.parentElement.tagName === 'A' ? i.parentElement.getAttribute('href')
                                                          : null})),
      headers: [...o.querySelectorAll('td > b')].map(b => ({text: b.textContent,
        align: getComputedStyle(b.parentElement).textAlign, ...box(b)})),
      imageCellAligns: [...o.querySelectorAll('img[src^="data:image/jpeg"]')]
        .map(i => getComputedStyle(i.closest('td')).textAlign),
      rowBackgrounds: [...table.querySelectorAll('tr')]
        .map(tr => getComputedStyle(tr).backgroundColor),
      text: o.innerText,
    };
  })
"""


@dataclass
class Frontend:
    """A running Jupyter server of one kind (``lab`` or ``notebook``) over a temporary root."""

    kind: str
    url: str
    root: Path

    def write_notebook(self, name: str, cells: list[str]) -> str:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(notebook, self.root / name)
        return name

    def notebook_url(self, name: str) -> str:
        if self.kind == "lab":
            # a workspace of its own, so tabs from an earlier test do not open beside it
            return f"{self.url}/lab/workspaces/{Path(name).stem}/tree/{name}?reset"
        return f"{self.url}/notebooks/{name}"

    def open(self, page: Page, name: str) -> None:
        """Open a notebook and wait until its kernel is idle (saved outputs already rendered)."""
        page.goto(self.notebook_url(name))
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        deadline = time.monotonic() + 60
        while not self._kernel_idle(name):  # asked of the server: the same in both front ends
            if time.monotonic() > deadline:
                raise AssertionError(f"no idle kernel for {name}")
            time.sleep(0.3)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator-tooltip')]"
            ".some(e => e.textContent.includes('Kernel status: Idle'))",
            timeout=60_000,
        )

    def _kernel_idle(self, name: str) -> bool:
        sessions = httpx.get(f"{self.url}/api/sessions", timeout=5).json()
        return any(s["path"] == name and s["kernel"]["execution_state"] == "idle" for s in sessions)

    def menu(self, page: Page, menu: str, item: str) -> None:
        """Click a menu item, as a user does (Notebook 7 does not expose the app to scripts)."""
        page.click(f".lm-MenuBar-itemLabel:text-is('{menu}')")
        page.click(f".lm-Menu-itemLabel:text-is('{item}')")

    def run_all(self, page: Page, *, timeout: float = 240.0) -> None:
        """Run every cell from the Run menu and wait until each has its execution count."""
        started = "() => !/\\[ \\]/.test(document.querySelector('.jp-InputPrompt').textContent)"
        for _ in range(3):
            self.menu(page, "Run", "Run All Cells")
            try:
                page.wait_for_function(started, timeout=10_000)
                break
            except PlaywrightTimeout:
                # the front end had not attached the kernel yet and asked for one: take the
                # default and run again
                if page.query_selector(".jp-Dialog .jp-mod-accept"):
                    page.click(".jp-Dialog .jp-mod-accept")
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                ".every(p => /\\[\\d+\\]/.test(p.textContent))",
                timeout=int(timeout * 1000),
            )
        except PlaywrightTimeout:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{self.kind}-run-failed.png"))
            raise

    def save(self, page: Page, name: str) -> Any:
        """Save from the front end; return the notebook as written on disk."""
        page.click(".jp-Notebook .jp-InputPrompt")  # focus the notebook, not an output link
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            notebook = nbformat.read(self.root / name, as_version=4)
            if all(cell.get("execution_count") for cell in notebook.cells):
                return notebook
            time.sleep(0.3)
        raise AssertionError(f"{name} was not saved with its outputs")


@contextmanager
def jupyter_server(kind: str, root: Path, home: Path) -> Iterator[Frontend]:
    """``jupyter lab`` or ``jupyter notebook`` on a free loopback port, stopped afterwards."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "NAIVE_API_KEY"}
    env.update(_lab_env(home))
    # render every cell: with windowing, cells out of view are not laid out and measure as 0
    tracker = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env["NAIVE_LOCAL_TIME_SCALE"] = "0.05"
    app = "LabApp" if kind == "lab" else "JupyterNotebookApp"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            kind,
            "--no-browser",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={root}",
            f"--{app}.news_url=None",
            "--ServerApp.disable_check_xsrf=True",
            "--allow-root",
            f"--{app}.extension_manager=readonly",
            f"--{app}.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=open(root / f"{kind}.log", "wb"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / f"{kind}.log").read_text()[-3000:])
            time.sleep(0.2)
        yield Frontend(kind, url, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(page: Page, output_selector: str = ".jp-OutputArea-output") -> list[dict[str, Any]]:
    """What each rendered result shows (see MEASURE_RESULTS), in page order."""
    script = MEASURE_RESULTS.replace("OUTPUT", json.dumps(output_selector))
    results: list[dict[str, Any]] = page.evaluate(script, page.query_selector("body"))
    return results


def screenshots(page: Page, name: str, output_selector: str = ".jp-OutputArea-output") -> None:
    """The page as it opens, and each result output on its own (the notebook scrolls inside)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    outputs = [
        o
        for o in page.query_selector_all(output_selector)
        if o.query_selector('img[src^="data:image/jpeg"]')
    ]
    for index, output in enumerate(outputs, 1):
        output.scroll_into_view_if_needed()
        output.screenshot(path=str(ARTIFACTS / f"{name}-result{index}.png"))
