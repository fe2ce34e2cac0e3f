"""Fixtures shared by every test package: a real embedded server over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from naive_nb.local import LocalServer, serve_local

# looks like a real key, so any leak is easy to grep for; never a real key
CANARY_KEY = "nv_sk_live_CANARY-not-a-real-key-0123456789abcdef"


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A fresh embedded server (jobs last ~1/100 of their estimate) with the canary key."""
    with serve_local(api_key=CANARY_KEY, time_scale=0.01, spread=0.2, rate_limit=None) as server:
        yield server
