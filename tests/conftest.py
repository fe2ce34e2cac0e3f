"""Fixtures shared by every test package: a real embedded server over HTTP on loopback."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from naive_nb.local import LocalServer, serve_local

# Ctrl-C is part of what is tested. A suite started with SIGINT ignored (a background job of a
# non-interactive shell) would make every interrupt a no-op, in this process and in the kernels
# and servers it starts; Python's own handler is what a terminal gives.
signal.signal(signal.SIGINT, signal.default_int_handler)

# looks like a real key, so any leak is easy to grep for; never a real key
CANARY_KEY = "nv_sk_live_CANARY-not-a-real-key-0123456789abcdef"


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A fresh embedded server (jobs last ~1/100 of their estimate) with the canary key."""
    with serve_local(api_key=CANARY_KEY, time_scale=0.01, spread=0.2, rate_limit=None) as server:
        yield server
