"""What the run-layer tests share: a client of the embedded server with the canary key, and a
session over a store of their own that reports progress at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from naive_nb.client import Client
from naive_nb.local import LocalServer
from naive_nb.run import Session
from naive_nb.run.settings import Settings
from tests.conftest import CANARY_KEY


@pytest.fixture
def client(local_server: LocalServer) -> Iterator[Client]:
    with Client(CANARY_KEY, base_url=local_server.url) as made:
        yield made


def session_at(root: Path, client: Any, **settings: Any) -> Session:
    """A session storing under ``root``; ``settings`` override the defaults."""
    return Session(Settings(store=root, **settings), client, progress_interval=0.0)
