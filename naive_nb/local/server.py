"""Running the embedded server: in a background thread (`serve_local`) or in the foreground
(`naive-nb serve`). Both bind 127.0.0.1 by default and use uvicorn with logging kept quiet:
the server logs no request lines and never a header, so no key can reach a log."""

from __future__ import annotations

import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn

from naive_nb.local.app import RequestRecord, ServerState, create_app
from naive_nb.local.config import ServerConfig
from naive_nb.local.faults import Faults
from naive_nb.local.timing import Timing

STARTUP_TIMEOUT = 10.0
# seconds `naive-nb serve` lets requests in flight finish after Ctrl-C (plus any injected latency)
FOREGROUND_GRACE = 10.0


def new_local_key() -> str:
    return "nv_sk_local_" + secrets.token_hex(12)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening; ``OSError`` if the address is taken.

    Bound before anything is announced, so a busy port is an error up front, and listening at
    once, so a client that connects before the server loop runs waits in the backlog.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets that do, and
    # without it every reply waits ~40 ms on Nagle + delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def _uvicorn_config(
    app: Any, host: str, port: int, log_level: str, grace: float = 1.0
) -> uvicorn.Config:
    try:
        import httptools  # noqa: F401  (the faster parser, when installed)

        http = "httptools"
    except ImportError:  # pragma: no cover - httptools is a dependency
        http = "h11"
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http,
        loop="asyncio",
        lifespan="on",
        access_log=False,
        log_level=log_level,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=max(1, math.ceil(grace)),
    )


class LocalServer:
    """A running embedded server. `url` and `api_key` are what a client needs; `faults` and
    `timing` can be changed while it runs; `request_log` and `jobs()` let tests see what
    happened."""

    def __init__(self, config: ServerConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        app, self._state = create_app(config)
        self._sock = listening_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(_uvicorn_config(app, host, self.port, "error"))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="naive-nb-server",
            daemon=True,
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LocalServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The embedded Naive server did not start.")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients and tests use -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.config.api_keys[0]

    @property
    def api_keys(self) -> tuple[str, ...]:
        return self.config.api_keys

    @property
    def faults(self) -> Faults:
        return self.config.faults

    @property
    def timing(self) -> Timing:
        return self.config.timing

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def request_log(self) -> list[RequestRecord]:
        return self._state.request_log

    def jobs(self) -> list[dict[str, Any]]:
        """Every job of every key, in the shape of `GET /v1/jobs/{id}`, oldest first."""
        now = time.monotonic()
        jobs = sorted(self._state.all_jobs(), key=lambda j: j.created_at)
        progress = self._state.reports_progress
        return [job.detail(now, with_progress=progress) for job in jobs]

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._server.should_exit

    def __repr__(self) -> str:  # the key stays out of reprs, even a local one
        state = "running" if self.running else "stopped"
        return f"<LocalServer {self.url} {state}>"


def serve_local(
    api_key: str | Sequence[str] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float | None = None,
    spread: float | None = None,
    workers: int = 4,
    balance: float = 100.0,
    rate_limit: int | None = 600,
    file_ttl: float = 3600.0,
    tier: str = "pro",
    faults: Faults | None = None,
    timing: Timing | None = None,
) -> LocalServer:
    """Start the embedded Naive server on `host:port` (0 = a free port) in a background thread.

    `api_key` may be one key, several (one tenant each), or None for a fresh random key.
    `time_scale` None reads `NAIVE_LOCAL_TIME_SCALE` (default 1.0: jobs take about as long as the
    hosted models), so notebooks and their tests can run the same code faster.
    `timing` shapes job times (distribution, slow jobs, queue delay, `progress` or not); `spread`
    is a shortcut for `Timing(spread=...)`, today's uniform +-spread, 0.2 when not given.
    """
    if time_scale is None:
        time_scale = _env_float("NAIVE_LOCAL_TIME_SCALE", 1.0)
    if api_key is None:
        keys: tuple[str, ...] = (new_local_key(),)
    elif isinstance(api_key, str):
        keys = (api_key,)
    else:
        keys = tuple(api_key)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("api_key must be a non-empty string (or a list of them).")
    if timing is None:
        timing = Timing() if spread is None else Timing(spread=spread)
    elif spread is not None:  # two answers to one question: refuse rather than pick one
        raise ValueError("Give spread inside timing (Timing(spread=...)), not both.")
    config = ServerConfig(
        api_keys=keys,
        time_scale=time_scale,
        workers=workers,
        balance=balance,
        rate_limit=rate_limit,
        file_ttl=file_ttl,
        tier=tier,
        faults=faults or Faults(),
        timing=timing,
    )
    return LocalServer(config, host, port).start()


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number such as 0.1, got {raw!r}.") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {raw!r}.")
    return value


def run_foreground(config: ServerConfig, sock: socket.socket) -> None:
    """Serve on ``sock`` (see `listening_socket`) until Ctrl-C or SIGTERM (`naive-nb serve`).

    On the signal uvicorn stops accepting, lets each request in flight finish (up to
    `FOREGROUND_GRACE` seconds plus the injected latency), ends the jobs, and then raises the
    signal again: Ctrl-C ends in ``KeyboardInterrupt`` here, for the caller to end quietly.
    """
    app, _ = create_app(config)
    host, port = sock.getsockname()[:2]
    grace = FOREGROUND_GRACE + config.faults.latency
    try:
        uvicorn.Server(_uvicorn_config(app, host, port, "warning", grace)).run(sockets=[sock])
    finally:
        sock.close()
