"""A real IPython shell whose failures raise (jupysql's TestingShell idea), on the embedded server.

Every test gets: a working directory in ``tmp_path`` (so the store, cache and journal land there),
no key or base URL from the developer's environment, and a fresh ``NaiveMagics`` with default
config. Servers run at 1/100 of real time and announce scaled estimates, so the client's own
estimate-paced polling keeps the tests fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output

from naive_nb.client._sync import Client
from naive_nb.local import LocalServer
from naive_nb.notebook.magics import NaiveMagics
from tests.conftest import CANARY_KEY


class TestingShell:
    """Runs cells in a real InteractiveShell; an error in a cell is raised, not printed."""

    __test__ = False  # a helper, not a test class

    def __init__(self, shell: InteractiveShell, magics: NaiveMagics) -> None:
        self.shell = shell
        self.magics = magics

    def run(self, cell: str) -> Any:
        result = self.shell.run_cell(cell, store_history=True)
        result.raise_error()
        return result.result

    def capture(self, cell: str) -> tuple[Any, CapturedIO]:
        with capture_output() as captured:
            value = self.run(cell)
        return value, captured

    @property
    def ns(self) -> dict[str, Any]:
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def use_client(self, server: LocalServer, api_key: str = CANARY_KEY) -> None:
        self.magics._client = Client(api_key, base_url=server.url)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NAIVE_API_KEY", raising=False)
    monkeypatch.delenv("NAIVE_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ip(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestingShell]:
    """The shell with naive_nb loaded, progress as text (a terminal), nothing else configured."""
    shell = InteractiveShell.instance()
    shell.config.pop("NaiveMagics", None)
    if "naive_nb" not in shell.extension_manager.loaded:
        shell.run_cell("%load_ext naive_nb").raise_error()
    magics = NaiveMagics(shell=shell)  # a fresh instance: no config or client left from before
    shell.register_magics(magics)
    testing = TestingShell(shell, magics)
    testing.run("%config NaiveMagics.progress = 'none'")
    yield testing
    if magics._client is not None:
        magics._client.close()
    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, NaiveMagics)]
    shell.config.pop("NaiveMagics", None)  # %config also writes into the shell's config
    shell.user_ns.pop("_", None)


@pytest.fixture
def online(
    ip: TestingShell, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> TestingShell:
    """The shell talking to the embedded server with the canary key (as a hosted user would)."""
    monkeypatch.setenv("NAIVE_API_KEY", CANARY_KEY)
    monkeypatch.setenv("NAIVE_BASE_URL", local_server.url)
    ip.use_client(local_server)
    return ip
