from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from naive_nb.local import LocalServer


@pytest.fixture
def api(local_server: LocalServer) -> Iterator[httpx.Client]:
    """An authenticated plain httpx client: these tests speak the raw contract, not our client."""
    headers = {"Authorization": f"Bearer {local_server.api_key}"}
    with httpx.Client(base_url=local_server.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def wait_done(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    def wait(job_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = api.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("completed", "failed", "cancelled"):
                return job
            time.sleep(0.01)
        raise AssertionError(f"job {job_id} did not finish in {timeout} s")

    return wait
