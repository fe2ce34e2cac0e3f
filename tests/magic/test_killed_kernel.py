"""A kernel killed (SIGKILL) mid-sweep, on a server outside it: every job it paid for is collected
by the next kernel's ``%naive resume``, and running the cell again sends nothing (issue 7)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

from naive_nb.local import serve_local
from tests.conftest import CANARY_KEY

CELL = "%naive a slow fox --seeds 1-6 --model fal-ai/flux/dev --size square --yes"


def _run(client: Any, code: str, timeout: float = 120.0) -> str:
    """Execute ``code`` and return what it printed and displayed as text."""
    shown: list[str] = []
    client.execute(code)
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        content = message["content"]
        kind = message["msg_type"]
        if kind == "stream":
            shown.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            shown.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            shown.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(shown)


def test_a_killed_kernels_paid_jobs_are_collected_and_never_paid_again(tmp_path: Path) -> None:
    with serve_local(api_key=CANARY_KEY, time_scale=0.5, rate_limit=None) as server:
        env = {**os.environ, "NAIVE_API_KEY": CANARY_KEY, "NAIVE_BASE_URL": server.url}
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env)
        _run(client, "%load_ext naive_nb")
        client.execute(CELL)
        deadline = time.monotonic() + 60
        while sum(1 for r in server.request_log if r.method == "POST") < 6:
            assert time.monotonic() < deadline, "the sweep did not submit its jobs"
            time.sleep(0.05)
        time.sleep(0.3)  # the last submit's reply reaches the journal
        os.kill(manager.provisioner.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        client.stop_channels()
        assert any(job["status"] in ("queued", "processing") for job in server.jobs())

        manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env)
        try:
            _run(client, "%load_ext naive_nb")
            resumed = _run(client, "%naive resume")
            posts = sum(1 for r in server.request_log if r.method == "POST")
            again = _run(client, CELL)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
        assert "6 collected" in resumed
        assert sum(1 for r in server.request_log if r.method == "POST") == posts == 6
        assert "6 from cache: 0 requests, 0 credits" in again
        jobs = server.jobs()
        charged = {job["id"] for job in jobs if job["status"] == "completed"}
        stored = {path.parent.name for path in (tmp_path / "naive-results").glob("*/manifest.json")}
        assert len(jobs) == 6 and charged == stored
