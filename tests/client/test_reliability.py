"""The issue's reliability guarantees, measured on the embedded server over real HTTP."""

from __future__ import annotations

import _thread
import asyncio
import threading
import time
from collections import Counter

import pytest

from naive_nb.client._async import AsyncClient
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.client._types import Job
from naive_nb.errors import SubmissionOutcomeUnknown
from naive_nb.local import Faults, LocalServer, serve_local

from ..conftest import CANARY_KEY

MODEL = "fal-ai/flux/schnell"
SUBMITS = 1000
# Long jobs on one worker: the server keeps rendering (CPU) out of the way of 1000 submits.
SLOW = {"time_scale": 1.0, "workers": 1, "rate_limit": None}
RETRY = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.1, budget=30)


def faulty(idempotency: bool) -> Faults:
    return Faults(
        seed=11,
        drop_after_create_rate=0.08,  # created, then the connection closes with no reply
        error_after_create_rate=0.08,  # created, then 500
        error_rate=0.05,  # 500 before anything is created
        idempotency=idempotency,
    )


async def submit_all(server: LocalServer) -> list[Job | BaseException]:
    client = AsyncClient(CANARY_KEY, base_url=server.url, retry=RETRY)
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> Job:
        async with gate:
            return await client.submit(MODEL, {"prompt": f"logical submit {i}", "seed": i})

    try:
        return await asyncio.gather(*(one(i) for i in range(SUBMITS)), return_exceptions=True)
    finally:
        await client.aclose()


def jobs_per_prompt(server: LocalServer) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for job in server.state.all_jobs():
        found.setdefault(job.input["prompt"], []).append(job.id)
    return found


async def test_1000_submits_under_faults_give_exactly_one_job_each_with_idempotency() -> None:
    with serve_local(api_key=CANARY_KEY, faults=faulty(True), **SLOW) as server:
        outcomes = await submit_all(server)
        created = jobs_per_prompt(server)
        posts = Counter(r.status for r in server.request_log if r.path == "/v1/images/generate")
    assert [o for o in outcomes if not isinstance(o, Job)] == []
    assert posts[-1] > 30 and posts[500] > 60  # the faults really happened...
    assert len(created) == SUBMITS  # ...and every logical submit has exactly one job
    assert all(len(ids) == 1 for ids in created.values())
    for i, job in enumerate(outcomes):
        assert isinstance(job, Job)
        assert created[f"logical submit {i}"] == [job.id]


async def test_1000_submits_without_server_idempotency_never_duplicate_silently() -> None:
    with serve_local(api_key=CANARY_KEY, faults=faulty(False), **SLOW) as server:
        outcomes = await submit_all(server)
        created = jobs_per_prompt(server)
    unknown = [o for o in outcomes if isinstance(o, SubmissionOutcomeUnknown)]
    others = [o for o in outcomes if isinstance(o, BaseException) and o not in unknown]
    assert others == []
    assert unknown  # ambiguous failures happened and were reported, typed
    # no logical submit ever created two jobs
    assert max(len(ids) for ids in created.values()) == 1
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, Job):
            assert created[f"logical submit {i}"] == [outcome.id]
    # every job nobody was handed back is named as a candidate in some typed error
    returned = {o.id for o in outcomes if isinstance(o, Job)}
    named = {c.id for exc in unknown for c in exc.candidates}
    orphans = {ids[0] for ids in created.values()} - returned
    assert orphans <= named


async def test_after_a_429_nothing_is_sent_until_retry_after_then_one_probe(
    local_server: LocalServer,
) -> None:
    faults = local_server.faults
    async with AsyncClient(CANARY_KEY, base_url=local_server.url, retry=RETRY) as client:
        await client.models()  # warm the connection
        faults.burst_retry_after = 2
        faults.rate_limit_burst = 1
        first = asyncio.create_task(client.status())
        while not any(r.status == 429 for r in local_server.request_log):
            await asyncio.sleep(0.01)
        faults.latency = 0.3  # a slow probe: the others must wait for its reply
        calls = (client.usage(), client.status(), client.jobs(), client.pricing())
        others = [asyncio.create_task(call) for call in calls]
        await asyncio.gather(first, *others)
    log = local_server.request_log
    limited = next(r for r in log if r.status == 429)
    after = [r for r in log if r.time > limited.time]
    assert len(after) == 5
    probe, rest = after[0], after[1:]
    assert probe.time - limited.time >= 2.0 - 0.02  # nothing for 2 s
    assert probe.time - limited.time < 3.0
    assert all(r.time - probe.time >= 0.3 - 0.02 for r in rest)  # sent after the probe's reply


def test_interrupting_generate_cancels_the_remote_job_within_a_second() -> None:
    with (
        serve_local(api_key=CANARY_KEY, time_scale=1.0, rate_limit=None) as server,
        Client(CANARY_KEY, base_url=server.url) as client,
    ):
        interrupted_at: list[float] = []

        def interrupt_soon(job: Job) -> None:
            def fire() -> None:
                interrupted_at.append(time.monotonic())
                _thread.interrupt_main()

            threading.Timer(0.5, fire).start()

        with pytest.raises(KeyboardInterrupt) as info:
            client.generate("a slow one", model="fal-ai/flux/dev", on_submitted=interrupt_soon)
        returned_at = time.monotonic()
        (job,) = server.jobs()
        deletes = [r for r in server.request_log if r.method == "DELETE"]
        assert len(deletes) == 1 and deletes[0].status == 200
        assert deletes[0].time - interrupted_at[0] < 1.0
        assert returned_at - interrupted_at[0] < 1.5
        assert client.get(job["id"]).status == "cancelled"
        assert job["id"] in str(info.value) and "cancelled on the server" in str(info.value)
        polls = [r for r in server.request_log if r.path == f"/v1/jobs/{job['id']}"]
        time.sleep(0.5)
        assert [r for r in server.request_log if r.path == f"/v1/jobs/{job['id']}"] == polls
