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
from urllib.parse import urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.local import LocalServer

__all__ = [
    "HOSTED_URL",
    "LOCAL_BACKEND",
    "Backend",
    "Secret",
    "auth_advice",
    "auth_facts",
    "resolve_backend",
    "scrub",
]

HOSTED_URL = "https://api.usenaive.ai"
#: the backend label of the embedded server (``Backend.label``, ``AsyncClient.backend``)
LOCAL_BACKEND = "local preview engine"

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


def scrub(value: Any, secret: Secret | None) -> Any:
    """``value`` (text, or JSON made of dicts and lists) with the key replaced by ``***``."""
    if secret is None:
        return value
    if isinstance(value, str):
        key = secret.reveal()
        return value.replace(key, "***") if key and key in value else value
    if isinstance(value, dict):
        return {k: scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secret) for v in value]
    return value


@dataclass(frozen=True)
class Backend:
    base_url: str
    key: Secret | None
    local: bool  # the embedded preview server
    # where the key and the address came from ("argument", "env", or "" when not given): a 401's
    # advice depends on them
    key_from: str = ""
    url_from: str = ""
    #: the settings that stand between the user and the local preview engine: of "api_key",
    #: "NAIVE_API_KEY", "base_url", "NAIVE_BASE_URL" (arguments and environment variables)
    to_go_local: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.local:
            return LOCAL_BACKEND
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
    key_from = "" if not key else ("argument" if api_key is not None else "env")
    url_from = "" if not url else ("argument" if base_url is not None else "env")
    # The embedded server is used only when neither a key nor an address is set, anywhere.
    steps = tuple(
        setting
        for setting, present in (
            ("api_key", bool(api_key)),
            ("NAIVE_API_KEY", bool(os.environ.get("NAIVE_API_KEY"))),
            ("base_url", bool(base_url)),
            ("NAIVE_BASE_URL", bool(os.environ.get("NAIVE_BASE_URL"))),
        )
        if present
    )
    if key:
        return Backend(
            (url or HOSTED_URL).rstrip("/"), Secret(key), False, key_from, url_from, steps
        )
    if url:
        # An explicit address without a key: the caller knows what they point at (a server
        # without auth, a proxy). Do not start the embedded one behind their back.
        return Backend(url.rstrip("/"), None, False, key_from, url_from, steps)
    server = local_server(announce)
    return Backend(server.url, Secret(server.api_key), local=True)


def auth_advice(backend: Backend) -> str:
    """What to do about a 401, for the configuration the client actually has.

    "Unset the key to use the local preview engine" is only true when no address is configured
    either: with ``NAIVE_BASE_URL`` set, a client without a key goes to that address keyless.
    """
    if backend.local:
        return (
            "The local preview engine refused the key naive-nb gave it; restart the kernel "
            "(or the process) to start a fresh one."
        )
    where = "The hosted API" if backend.label == "hosted" else f"The server at {backend.base_url}"
    if backend.key is None:
        fix = "set NAIVE_API_KEY" if backend.url_from == "env" else "pass api_key=..."
        advice = f"{where} wants a key: {fix} (a key looks like nv_sk_live_...)"
    else:
        check = "NAIVE_API_KEY" if backend.key_from == "env" else "the api_key you passed"
        advice = f"{where} refused the key: check {check} (a key looks like nv_sk_live_...)"
    if not backend.to_go_local:
        return f"{advice}."
    steps = " and ".join(_UNSET[setting] for setting in backend.to_go_local)
    return f"{advice}, or {steps} to use the local preview engine."


# how a Python user takes each setting away
_UNSET = {
    "api_key": "leave out api_key=",
    "NAIVE_API_KEY": "unset NAIVE_API_KEY",
    "base_url": "leave out base_url=",
    "NAIVE_BASE_URL": "unset NAIVE_BASE_URL",
}


def auth_facts(backend: Backend) -> dict[str, Any]:
    """What an :class:`AuthenticationError` keeps of the configuration, for a front end that
    words its own advice."""
    return {
        "backend": backend.label,
        "base_url": backend.base_url,
        "key_from": backend.key_from,
        "url_from": backend.url_from,
        "to_go_local": backend.to_go_local,
    }


def local_notice(url: str) -> str:
    return (
        "naive-nb: no NAIVE_API_KEY set, so using the local preview engine, a server embedded "
        f"in this process on {urlsplit(url).hostname} (offline, procedural images); set "
        "NAIVE_API_KEY to use the hosted Naive API."
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
