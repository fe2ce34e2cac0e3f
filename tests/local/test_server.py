"""The server as a process part: start-up, workers, the CLI, isolation from the client, and
that the key never reaches a log line or anything the server writes."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from naive_nb.local import LocalServer, engine, serve_local
from tests.conftest import CANARY_KEY

PACKAGE = Path(__file__).resolve().parents[2] / "naive_nb"


def test_start_is_fast_and_stop_frees_the_port() -> None:
    started = time.perf_counter()
    server = serve_local(api_key="k")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # generous; the benchmark reports the real figure
    assert httpx.get(f"{server.url}/health").status_code == 200
    server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/health")


def test_handle_repr_and_keys(local_server: LocalServer) -> None:
    assert local_server.url.startswith("http://127.0.0.1:")
    assert local_server.api_key == CANARY_KEY
    assert CANARY_KEY not in repr(local_server)
    with serve_local() as first, serve_local() as second:
        assert first.api_key.startswith("nv_sk_local_") and len(first.api_key) > 20
        assert first.api_key != second.api_key  # a fresh random key each time, not a constant
    with pytest.raises(ValueError, match="api_key"):
        serve_local(api_key="")


def test_workers_limit_jobs_in_progress() -> None:
    with serve_local(api_key="k", workers=2, time_scale=0.2, spread=0) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"})
        ids = [
            api.post("/v1/images/generate", json={"input": {"prompt": f"p{i}"}}).json()["id"]
            for i in range(4)
        ]
        time.sleep(0.3)
        statuses = [api.get(f"/v1/jobs/{job_id}").json()["status"] for job_id in ids]
        assert statuses.count("processing") == 2 and statuses.count("queued") == 2
        api.close()


def test_durations_follow_the_estimate_scale_and_spread() -> None:
    with serve_local(api_key="k", time_scale=0.5, spread=0.2) as server:
        engine = server.state.engine
        durations = [engine.duration_for(f"job-{i}", 10) for i in range(200)]
        assert all(4.0 <= d <= 6.0 for d in durations)  # 10 s x 0.5, +-20 %
        assert max(durations) - min(durations) > 1.5  # really spread
        assert engine.duration_for("job-1", 10) == durations[1]  # the same for an id


def test_ledger_charges_completion_only_until_the_balance_runs_out(
    wait_done: Callable[..., dict[str, Any]],
) -> None:
    with serve_local(api_key="k", balance=1.0, time_scale=0) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"})
        body = {"model": "fal-ai/flux-pro/v1.1", "input": {"prompt": "x"}}  # 1.6 credits
        assert api.post("/v1/images/generate", json=body).status_code == 402
        body = {"model": "fal-ai/flux/dev", "input": {"prompt": "x"}}  # 1.0 credit
        job_id = api.post("/v1/images/generate", json=body).json()["id"]
        while api.get(f"/v1/jobs/{job_id}").json()["status"] != "completed":
            time.sleep(0.01)
        assert api.get("/v1/status").json()["credits"]["balance"] == 0.0
        assert api.post("/v1/images/generate", json=body).status_code == 402
        assert len(api.get("/v1/usage").json()["transactions"]) == 1
        api.close()


def test_an_overdrawn_balance_is_reported_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two jobs pass the submit check together (0.2 credits covers each 0.12) and are charged on
    # completion, as on the hosted API: the balance ends at -0.04, and says why wherever it shows.
    release = threading.Event()
    render = engine._render_job

    def held_render(job: Any) -> Any:
        release.wait(30)  # no job completes before both are accepted
        return render(job)

    monkeypatch.setattr(engine, "_render_job", held_render)
    with serve_local(api_key="k", balance=0.2, time_scale=0, rate_limit=None) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"})
        body = {"model": "fal-ai/flux/schnell", "input": {"prompt": "x"}}  # 0.12 credits
        replies = [api.post("/v1/images/generate", json=body) for _ in range(2)]
        assert [reply.status_code for reply in replies] == [202, 202]
        release.set()
        for reply in replies:
            while api.get(f"/v1/jobs/{reply.json()['id']}").json()["status"] != "completed":
                time.sleep(0.01)
        reason = (
            "the balance is -0.04 credits: jobs accepted while it covered each of them completed "
            "after it had run out, and were charged (credits are checked at submit and charged "
            "on completion)"
        )
        credits = api.get("/v1/status").json()["credits"]
        assert credits["balance"] == -0.04
        assert credits["note"] == f"T{reason[1:]}."
        assert api.get("/v1/usage").json()["note"] == f"T{reason[1:]}."
        refused = api.post("/v1/images/generate", json=body)
        assert refused.status_code == 402
        error = refused.json()["error"]
        assert error["message"] == f"This request needs 0.12 credits; {reason}."
        assert (
            error["hint"] == "Buy credits: the balance must cover a request before it is accepted."
        )
        assert refused.json()["balance"] == -0.04 and refused.json()["required_credits"] == 0.12
        api.close()


def test_a_balance_that_is_not_overdrawn_has_no_note() -> None:
    with serve_local(api_key="k", balance=0.2, time_scale=0) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k"})
        assert "note" not in api.get("/v1/status").json()["credits"]
        body = {"model": "fal-ai/flux/dev", "input": {"prompt": "x"}}  # 1.0 credit
        error = api.post("/v1/images/generate", json=body).json()["error"]
        assert error["message"] == "This request needs 1.0 credits; the balance is 0.2."
        assert error["hint"] == "Buy credits or lower num_images."
        api.close()


def test_canary_key_reaches_no_log_line(
    api: httpx.Client,
    local_server: LocalServer,
    caplog: pytest.LogCaptureFixture,
    wait_done: Callable[..., dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    local_server.faults.error_after_create_rate = 0.5
    for i in range(10):
        api.post("/v1/images/generate", json={"input": {"prompt": f"p{i}"}})
    api.post("/v1/images/generate", content=b"{broken")
    httpx.get(f"{local_server.url}/v1/status", headers={"Authorization": f"Bearer {CANARY_KEY}x"})
    for job in local_server.jobs():
        wait_done(job["id"])
    out, err = capfd.readouterr()
    everything = (
        out + err + caplog.text + repr(local_server.jobs()) + repr(local_server.request_log)
    )
    assert CANARY_KEY not in everything
    assert "CANARY" not in everything


def test_canary_key_reaches_no_file(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    code = f"""
import httpx
from naive_nb.local import serve_local
with serve_local(api_key={CANARY_KEY!r}, time_scale=0) as s:
    api = httpx.Client(base_url=s.url, headers={{"Authorization": "Bearer {CANARY_KEY}"}})
    job = api.post("/v1/images/generate", json={{"input": {{"prompt": "x"}}}}).json()
    while api.get("/v1/jobs/" + job["id"]).json()["status"] != "completed":
        pass
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env, timeout=60)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path


def test_cli_serve_prints_its_address_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "naive_nb.cli",
            "serve",
            "--port",
            str(port),
            "--api-key",
            CANARY_KEY,
            "--time-scale",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert f"local preview engine on http://127.0.0.1:{port}" in banner
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.ConnectError:
                time.sleep(0.02)
        reply = httpx.get(f"{url}/v1/status", headers={"Authorization": f"Bearer {CANARY_KEY}"})
        assert reply.status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert CANARY_KEY not in banner + out + err
    assert "Traceback" not in err


def test_cli_rejects_bad_values() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "naive_nb.cli", "serve", "--error-rate", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--error-rate: must be a fraction from 0 to 1, got 2" in result.stderr


def test_server_imports_no_client_code() -> None:
    """The server and the client meet only at the HTTP contract."""
    for path in (PACKAGE / "local").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("naive_nb"):
                    assert name.startswith("naive_nb.local"), f"{path.name} imports {name}"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_time_scale_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAIVE_LOCAL_TIME_SCALE", "0.25")
    with serve_local(api_key="k") as server:
        assert server.config.time_scale == 0.25
    with serve_local(api_key="k", time_scale=2) as server:  # an argument wins
        assert server.config.time_scale == 2
    monkeypatch.setenv("NAIVE_LOCAL_TIME_SCALE", "fast")
    with pytest.raises(ValueError, match="NAIVE_LOCAL_TIME_SCALE must be a number"):
        serve_local(api_key="k")


def test_announced_estimate_follows_the_time_scale() -> None:
    for scale, expected in [(1.0, 5), (0.2, 1), (0.01, 0.05), (0, 0)]:
        with serve_local(api_key="k", time_scale=scale) as server:
            reply = httpx.post(
                f"{server.url}/v1/images/generate",
                headers={"Authorization": "Bearer k"},
                json={"input": {"prompt": "x"}},
            )
            assert reply.json()["estimated_seconds"] == expected


def test_a_client_hanging_up_mid_request_is_no_error(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    import socket

    caplog.set_level(logging.DEBUG)
    head = (
        "POST /v1/images/generate HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {CANARY_KEY}\r\nContent-Type: application/json\r\n"
        'Content-Length: 200\r\n\r\n{"input": '
    )
    with socket.create_connection((local_server.host, local_server.port)) as sock:
        sock.sendall(head.encode())  # most of the body never comes
    time.sleep(0.3)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err + caplog.text
    assert local_server.jobs() == []
    assert local_server.request_log[-1].status in (0, 499)  # nobody was there to answer
    assert httpx.get(f"{local_server.url}/health").status_code == 200
