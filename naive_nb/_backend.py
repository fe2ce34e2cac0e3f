"""Which server the client talks to: the hosted API when a key is set, else the embedded one.

The key comes from the argument, else ``NAIVE_API_KEY``; the address from the argument, else
``NAIVE_BASE_URL``, else the hosted default. With no key at all, naive-nb starts its embedded
server once per process (on loopback) and says so in one line.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.local import LocalServer

__all__ = ["HOSTED_URL", "Backend", "Secret", "resolve_backend"]

HOSTED_URL = "https://api.usenaive.ai"

_local: LocalServer | None = None
_local_lock = threading.Lock()


class Secret:
    """Holds the API key so that no repr, log line or traceback local shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # keep it out of pickles too
        raise TypeError("the API key cannot be pickled")


@dataclass(frozen=True)
class Backend:
    base_url: str
    key: Secret | None
    local: bool  # the embedded preview server

    @property
    def label(self) -> str:
        if self.local:
            return "local preview engine"
        return "hosted" if self.base_url == HOSTED_URL else "custom"


def resolve_backend(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    announce: Callable[[str], None] | None = None,
) -> Backend:
    """Where to send requests. ``announce`` receives the one-line notice if the embedded server
    is started now (default: stderr; the notebook layer shows it as an ordinary output line)."""
    key = api_key if api_key is not None else os.environ.get("NAIVE_API_KEY") or None
    url = base_url if base_url is not None else os.environ.get("NAIVE_BASE_URL") or None
    if key:
        return Backend((url or HOSTED_URL).rstrip("/"), Secret(key), local=False)
    if url:
        # An explicit address without a key: the caller knows what they point at (a server
        # without auth, a proxy). Do not start the embedded one behind their back.
        return Backend(url.rstrip("/"), None, local=False)
    server = local_server(announce)
    return Backend(server.url, Secret(server.api_key), local=True)


def local_notice(url: str) -> str:
    return (
        f"naive-nb: no NAIVE_API_KEY set, so using the local preview engine at {url} "
        "(offline, procedural images); set NAIVE_API_KEY to use the hosted Naive API."
    )


def _to_stderr(notice: str) -> None:
    print(notice, file=sys.stderr)


def local_server(announce: Callable[[str], None] | None = None) -> LocalServer:
    """The process-wide embedded server, started (and announced) on first use."""
    global _local
    with _local_lock:
        if _local is None or not _local.running:
            from naive_nb.local import serve_local

            _local = serve_local()
            (announce or _to_stderr)(local_notice(_local.url))
        return _local
