"""Widget tests without a browser: a comm that records what each widget sends (ipywidgets' own
tests do the same, ``ipywidgets/widgets/tests/utils.py``), and the embedded server over real
HTTP behind the panel's session.

Unlike ipywidgets' helper, ``Widget._repr_mimebundle_`` is left working, so the panel's
``text/plain`` can be checked too.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import comm
import pytest

from naive_nb.client import Client
from naive_nb.local import LocalServer
from naive_nb.notebook.panel import Panel
from naive_nb.run import Session, Settings
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell, _isolated, ip, online  # noqa: F401


class RecordingComm:
    """A comm that keeps every message a widget sends (and from which thread)."""

    kernel = "Truthy"
    sent: ClassVar[list[tuple[str, Any]]] = []  # every comm's (thread name, data), in order
    lock = threading.Lock()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.comm_id = uuid.uuid4().hex  # a widget's model id
        self.messages: list[dict[str, Any]] = []

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.messages.append(data)
            RecordingComm.sent.append((threading.current_thread().name, data))

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[RecordingComm]]:
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm())
    monkeypatch.setattr(comm, "get_comm_manager", lambda **kwargs: None)  # no kernel
    yield RecordingComm


@pytest.fixture
def slow_server(local_server: LocalServer) -> LocalServer:
    """The embedded server with every job lasting most of a minute (until cancelled)."""
    local_server.timing.slow_rate = 1.0
    local_server.timing.slow_factor = 1000.0  # ~50 s a job at 1/100 of real time
    return local_server


@pytest.fixture
def session(local_server: LocalServer, tmp_path: Path) -> Iterator[Session]:
    client = Client(CANARY_KEY, base_url=local_server.url)
    session = Session(Settings(store=tmp_path / "naive-results"), client, progress_interval=0.05)
    yield session
    session.close()


@pytest.fixture
def panel(session: Session) -> Iterator[Panel]:
    made = Panel("a lighthouse at dusk", seeds="1-2", session=session)
    yield made
    for run in made.runs:
        run.cancel()
        run.wait(20)
    made.close()


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait for ``condition()`` to hold (background work ends on its own time); fail after
    ``timeout`` seconds. Not a timing assertion: the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.01)


def updates(widget: Any, trait: str) -> list[Any]:
    """The values of ``trait`` ``widget`` sent to the front end, in order."""
    found = []
    for data in widget.comm.messages:
        if isinstance(data, dict) and data.get("method") == "update" and trait in data["state"]:
            found.append(data["state"][trait])
    return found
