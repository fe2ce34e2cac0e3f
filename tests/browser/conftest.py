"""A real JupyterLab server and headless Debian Chromium driven by Playwright.

Widgets only show what they are in a browser, so these tests open notebooks in JupyterLab, run
them, and read the rendered page. The server and the browser are started by ``frontends.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.frontends import Frontend, chromium_page, jupyter_server


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Frontend]:
    """One JupyterLab for the session, with job times long enough to watch a job's progress."""
    root, home = tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("lab-home")
    with jupyter_server("lab", root, home, time_scale=0.6) as frontend:
        yield frontend


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh Chromium per test. Not shared wider on purpose: Playwright's sync API keeps an
    event loop running in the main thread while it lives, which breaks a later asyncio.run()."""
    with chromium_page({"width": 1280, "height": 1400}) as fresh:
        yield fresh
