"""The embedded Naive server: the images API offline, with a deterministic local renderer.

It must not import naive-nb's client code: client and server meet only at the HTTP contract,
so a client bug cannot hide behind a matching server bug.
"""

from __future__ import annotations

from naive_nb.local.app import RequestRecord
from naive_nb.local.config import ServerConfig
from naive_nb.local.faults import Faults
from naive_nb.local.server import LocalServer, serve_local
from naive_nb.local.timing import Timing

__all__ = ["Faults", "LocalServer", "RequestRecord", "ServerConfig", "Timing", "serve_local"]
