"""Several kernels on one store: real processes writing one store, cache and journal at once.

Each worker process finishes the same request as every other (one job folder, one cache index
entry: the race that failed cells with "could not be downloaded" while the images were stored),
stores jobs of its own, and journals each of them, all at the same time. Nothing may fail, every
journal line must read back whole, and the cache must only ever serve a whole copy.
"""

from __future__ import annotations

import io
import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from PIL import Image

from naive_nb.run.cache import RequestCache, request_key
from naive_nb.run.journal import JobJournal
from naive_nb.run.records import JobRecord
from naive_nb.run.store import ImagePayload, ResultStore

WORKERS = 4
ROUNDS = 25
MODEL = "fal-ai/flux/schnell"
SHARED = {"prompt": "the same cell in every kernel", "seed": 7}
LONG_PROMPT = "a lighthouse " * 1000  # a journal line well over one I/O buffer


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _record(job_id: str, data: dict[str, Any]) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        model=MODEL,
        input=data,
        cache_key=request_key(MODEL, data),
        backend="127.0.0.1:8765",
        local_preview=True,
        credits_used=0.12,
        created="2026-01-01T00:00:00+00:00",
        completed="2026-01-01T00:00:05+00:00",
    )


def _hammer(root: str, worker: int, start: Barrier, errors: Any) -> None:
    """One kernel: store, index and journal as fast as it can, alongside the others."""
    store = ResultStore(root)
    journal = JobJournal(root)
    payload = [ImagePayload(_png(), "image/png", 64, 48, 7)]
    shared_key = request_key(MODEL, SHARED)
    start.wait()
    for n in range(ROUNDS):
        try:
            cache = RequestCache(store)
            cache.put(store.save(_record("shared-job", SHARED), payload))
            mine = {"prompt": LONG_PROMPT, "seed": worker * 1000 + n}
            job_id = f"w{worker}-{n}"
            journal.submitted(job_id, MODEL, mine, request_key(MODEL, mine), "127.0.0.1:8765")
            cache.put(store.save(_record(job_id, mine), payload))
            journal.finished(job_id, "collected")
            if cache.get(shared_key) is None:
                errors.put(f"worker {worker} round {n}: the shared result was not served")
        except Exception as error:  # what a cell would have failed with
            errors.put(f"worker {worker} round {n}: {error!r}")


def test_kernels_sharing_a_store_never_fail_each_other(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: a real kernel
    start = context.Barrier(WORKERS)
    errors = context.Queue()
    workers = [
        context.Process(target=_hammer, args=(str(tmp_path), n, start, errors))
        for n in range(WORKERS)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0] * WORKERS
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    reading = JobJournal(tmp_path).read()
    assert reading.damaged == ()
    assert len(reading.entries) == 2 * WORKERS * ROUNDS  # every line whole, none lost
    assert JobJournal(tmp_path).pending() == []
    store = ResultStore(tmp_path)
    cache = RequestCache(store)
    assert len(cache.entries()) == 1 + WORKERS * ROUNDS
    for n in range(WORKERS):
        mine = {"prompt": LONG_PROMPT, "seed": n * 1000 + ROUNDS - 1}
        hit = cache.get(request_key(MODEL, mine))
        assert hit is not None and hit.job_id == f"w{n}-{ROUNDS - 1}"
    leftovers = [p.name for p in tmp_path.rglob("*.part")]
    assert leftovers == []  # every temporary file was moved into place
