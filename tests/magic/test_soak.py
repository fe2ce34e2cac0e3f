"""Soak: 200 seeded jobs through ``%naive`` sweeps while the server loses replies, fails after
creating jobs and rate-limits in bursts, honouring idempotency keys for half the cells and
ignoring them for the other half. Afterwards the server's own records are the judge: every job
it charged is stored whole, journalled as collected and cached with all its images, and no
seeded request was charged twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook.messages import NaiveUsageError
from naive_nb.run.cache import RequestCache
from naive_nb.run.journal import JobJournal
from naive_nb.run.plan import PlannedJob
from naive_nb.run.records import sha256_of
from naive_nb.run.store import ResultStore
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell

CELLS = 25
SEEDS_PER_CELL = 8
MODEL = "fal-ai/flux/schnell"
STORE = Path("naive-results")
# quick retries: the soak is about what is kept, not about waiting
RETRY = RetryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.1, budget=30.0)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve_local(
        api_key=CANARY_KEY, time_scale=0.005, spread=0.2, workers=4, rate_limit=None
    ) as made:
        yield made


def _cell(n: int) -> str:
    first = n * SEEDS_PER_CELL + 1
    return (
        f"%naive soak cell {n} --seeds {first}-{first + SEEDS_PER_CELL - 1} --num 1 --size square"
    )


def _key(prompt: str, seed: int) -> str:
    data = {"prompt": prompt, "image_size": "square", "num_images": 1, "seed": seed}
    return PlannedJob(MODEL, data).key


@pytest.mark.timeout(120)
def test_soak_every_charged_job_is_kept_once(ip: TestingShell, server: LocalServer) -> None:
    ip.magics._client = Client(CANARY_KEY, base_url=server.url, retry=RETRY)
    faults = server.faults
    faults.seed = 7  # a replayable sequence of faults
    faults.drop_after_create_rate = 0.15
    faults.error_after_create_rate = 0.1
    faults.burst_retry_after = 1
    failed_cells = []
    for n in range(CELLS):
        faults.idempotency = n % 2 == 0
        if n % 5 == 2:
            # one 429 at a time: a second in a row says the window is spent, and the client
            # then (rightly) waits for the window's reset, up to a minute
            faults.rate_limit_burst = 1
        try:
            ip.run(_cell(n))
        except NaiveUsageError as error:  # a cell may fail; what it paid for must not be lost
            failed_cells.append((n, str(error)))
    faults.drop_after_create_rate = faults.error_after_create_rate = 0.0
    faults.idempotency = True
    journal = JobJournal(STORE)
    if journal.pending():
        ip.run("%naive resume")

    jobs = server.jobs()
    charged = [job for job in jobs if job["credits_used"] > 0]
    assert all(job["status"] == "completed" for job in charged)
    assert len(charged) >= CELLS * SEEDS_PER_CELL
    # the faults really happened: replies lost (-1), 5xx after creating, 429s; and with keys
    # ignored, some lost replies could only be settled by a claim checked against the job
    posts = Counter(r.status for r in server.request_log if r.method == "POST")
    assert posts[-1] > 0 and posts[500] > 0 and posts[429] > 0
    assert any(e.get("unverified") for e in journal.entries())

    requests = Counter((job["result"]["prompt"], job["result"]["seed"]) for job in charged)
    twice = {request: count for request, count in requests.items() if count > 1}
    assert twice == {}  # no seeded request charged twice

    store = ResultStore(STORE)
    cache = RequestCache(store)
    closed = {e["job_id"] for e in journal.entries() if e["event"] == "collected"}
    for job in charged:
        record, damage = store.check(job["id"])
        assert damage is None and record is not None, (job["id"], damage)
        assert len(record.files) == len(job["media"]) == 1
        assert all(sha256_of(f.path.read_bytes()) == f.sha256 for f in record.files)
        assert job["id"] in closed
        hit = cache.get(_key(job["result"]["prompt"], job["result"]["seed"]))
        assert hit is not None and hit.job_id == job["id"] and len(hit.files) == 1
    assert journal.pending() == []

    # every one of the 200 requests is answered from the store now: not one more charge
    before = len(jobs)
    for n in range(CELLS):
        result = ip.run(_cell(n))
        assert len(result.images) == SEEDS_PER_CELL
    assert len(server.jobs()) == before
    assert failed_cells == []
