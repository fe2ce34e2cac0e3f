"""`naive-nb serve` as a user runs it: a real process, its banner, a busy port, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import CANARY_KEY


def _env(**extra: str) -> dict[str, str]:
    # no real key from the developer's shell may reach a test log through the child
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAIVE_")}
    return {**env, **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "naive_nb.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _env(),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _wait_until_refused(port: int) -> None:
    for _ in range(3000):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.01)
    raise AssertionError("the server kept accepting connections after Ctrl-C")


def _banner(process: subprocess.Popen[str]) -> str:
    """The banner, up to its NAIVE_API_KEY line (what a shorter banner printed, after 30 s)."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        while line := process.stdout.readline():
            lines.append(line)
            if "NAIVE_API_KEY" in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    return "".join(lines)


def test_banner_names_both_variables_and_they_work() -> None:
    port = _free_port()
    with _serve("--port", str(port), "--time-scale", "0") as process:
        banner = _banner(process)
        assert f"export NAIVE_BASE_URL=http://127.0.0.1:{port}" in banner
        assert "export NAIVE_API_KEY=nv_sk_local_dev" in banner
        # what the banner says to set is enough: no 401 asking for another key
        values = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in banner.splitlines()
            if line.strip().startswith("export ")
        )
        reply = httpx.get(
            f"{values['NAIVE_BASE_URL']}/v1/status",
            headers={"Authorization": f"Bearer {values['NAIVE_API_KEY']}"},
        )
        assert reply.status_code == 200


def test_banner_never_echoes_a_key_that_looks_hosted_or_is_the_shells() -> None:
    for key, env in [
        (CANARY_KEY, _env()),  # nv_sk_live_...: someone's real key
        ("my-own-key-123", _env(NAIVE_API_KEY="my-own-key-123")),  # the shell's NAIVE_API_KEY
    ]:
        with _serve("--port", str(_free_port()), "--api-key", key, env=env) as process:
            banner = _banner(process)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        assert "export NAIVE_API_KEY=<the key you gave" in banner
        assert key not in banner + out + err


def test_a_busy_port_is_one_short_error_and_no_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "naive_nb.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
    assert result.returncode == 1
    assert result.stdout == ""  # no banner for a server that never ran
    assert result.stderr.strip() == (
        f"naive-nb serve: cannot listen on 127.0.0.1:{port}: Address already in use. "
        "Stop what uses it, or pick another --port."
    )


def test_ctrl_c_finishes_the_request_in_flight_and_exits_cleanly() -> None:
    port = _free_port()
    with _serve("--port", str(port), "--time-scale", "0") as process:
        _banner(process)  # printed once the port is bound: connections wait in the backlog
        body = json.dumps({"input": {"prompt": "a lighthouse", "seed": 1}}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            # "Expect: 100-continue": the server answers "100 Continue" when the route asks for
            # the body, so the request is provably in the application when Ctrl-C arrives
            sock.sendall(
                b"POST /v1/images/generate HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer nv_sk_local_dev\r\nContent-Type: application/json\r\n"
                b"Expect: 100-continue\r\n" + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
            process.send_signal(signal.SIGINT)
            _wait_until_refused(port)  # the shutdown has begun: no new connection is taken
            sock.sendall(body)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        out, err = process.communicate(timeout=60)
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 202"), reply
    assert json.loads(payload)["status"] == "queued"
    assert process.returncode == 0
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err == ""
    assert out.rstrip().endswith("naive-nb serve: stopped.")
