"""JupyterLab 4 and Notebook 7 servers for the browser tests, Debian's Chromium, and what the
front ends render, measured.

The servers run with no token, no news and no update checks, their state in a temporary home.
Notebook 7 is the same front-end code as Lab in another shell, so one set of helpers drives
both, through the page as a user would (only the URL of a notebook differs): Notebook 7 served
this way left ``exposeAppInBrowser`` false in its page config whatever we set, so no script
reaches its app object. Lab does expose it as ``window.jupyterapp`` (``open_and_run`` uses it).
Chromium comes from Debian (``apt-get install chromium``; Playwright's own browser download does
not work offline), with its network features switched off.
"""

from __future__ import annotations

import json
import os
import socket
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
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots (git-ignored)

# every code cell gets an execution count once it has run
ALL_CELLS_RAN = (
    "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
    ".every(p => /\\[\\d+\\]/.test(p.textContent))"
)

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

    def open_and_run(self, page: Page, name: str, *, settle: float = 60.0) -> None:
        """Lab only: open a notebook, wait for its kernel, run every cell through the app's
        command, and wait up to ``settle`` s until each cell has run (``settle=0``: return at
        once, to watch the run)."""
        assert self.kind == "lab", "Notebook 7 does not expose its app to scripts"
        page.goto(self.notebook_url(name))
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
            " === 'idle'",
            timeout=60_000,
        )
        # not awaited in the page: the command's promise only settles when every cell has run
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        if settle <= 0:
            return
        page.wait_for_function(ALL_CELLS_RAN, timeout=int(settle * 1000))

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
            page.wait_for_function(ALL_CELLS_RAN, timeout=int(timeout * 1000))
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lab_env(home: Path) -> dict[str, str]:
    """Settings that keep JupyterLab off the network and its state out of the real home."""
    settings = home / "settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    ).write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return {
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "NAIVE_LOCAL_TIME_SCALE": "0.6",  # a 5 s model takes ~3 s: long enough to see the bar,
    }


@contextmanager
def jupyter_server(
    kind: str, root: Path, home: Path, *, time_scale: float = 0.05
) -> Iterator[Frontend]:
    """``jupyter lab`` or ``jupyter notebook`` on a free loopback port, stopped afterwards.

    ``time_scale`` scales the embedded server's job times: small for tests that look at
    results, larger (0.6) for tests that watch a job's progress."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "NAIVE_API_KEY"}
    env.update(lab_env(home))
    # render every cell: with windowing, cells out of view are not laid out and measure as 0
    tracker = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env["NAIVE_LOCAL_TIME_SCALE"] = str(time_scale)
    app = "LabApp" if kind == "lab" else "JupyterNotebookApp"
    # Lab's app as window.jupyterapp, for open_and_run (Notebook 7 keeps its own hidden)
    expose_app = ["--LabApp.expose_app_in_browser=True"] if kind == "lab" else []
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
            *expose_app,
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


@contextmanager
def chromium_page(viewport: dict[str, int]) -> Iterator[Page]:
    """A page in a fresh headless Chromium, closed afterwards. Playwright's sync API keeps an
    event loop running in this thread while it lives, so it lives only inside this block (a
    later asyncio.run() would fail otherwise)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=viewport)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def wait_for_images(page: Page, selector: str = 'img[src^="data:image/jpeg"]') -> None:
    """Until every image the selector finds has decoded (measured before that, it is 0 wide)."""
    page.wait_for_function(
        f"() => [...document.querySelectorAll({json.dumps(selector)})]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


@dataclass
class Run:
    """A notebook run and saved in one front end, its server still up."""

    frontend: Frontend
    live: list[dict[str, Any]]  # the results as measured right after the run
    saved: Any  # the notebook as written on disk


@contextmanager
def run_and_measure(
    kind: str,
    root: Path,
    home: Path,
    notebook: str,
    cells: list[str],
    *,
    viewport: dict[str, int],
    shots: str,
) -> Iterator[Run]:
    """Write the notebook, run it all in ``kind`` as a user would, measure its results once
    every image has decoded, screenshot them as ``shots``, and save it. The server stays up
    while the caller holds the run (a test may reopen the notebook)."""
    with jupyter_server(kind, root, home) as frontend:
        frontend.write_notebook(notebook, cells)
        with chromium_page(viewport) as page:
            frontend.open(page, notebook)
            frontend.run_all(page)
            wait_for_images(page)
            live = measure(page)
            screenshots(page, shots)
            saved = frontend.save(page, notebook)
        yield Run(frontend, live, saved)
