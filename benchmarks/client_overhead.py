"""What the sync ``Client`` adds to a call: its round trip against ``AsyncClient``'s, same server.

The sync client runs each call as a coroutine on naive-nb's loop thread while the calling thread
blocks (and runs the call's callbacks). This measures, on the embedded server over real HTTP
(loopback, no rate limit), the wall time of one call as the caller sees it, for each of:

  get                  ``get(id)``
  get, on_notice       ``get(id)`` on a client given ``on_notice`` (the sync client then gives
                       every call a callback queue, as the notebook's calls have)
  wait (done job)      ``wait(id, on_update=...)`` of a finished job: one look, one callback
                       (run in the calling thread by the sync client)
  submit               ``submit(..., on_submitted=...)``: one POST, one callback

once with ``AsyncClient`` awaited in an event loop of the caller's own (the HTTP round trip and
the client's work, nothing else), once with the sync ``Client``. Each cell: the median over
``--calls`` calls (after a warm-up) in milliseconds; the last column is what the sync client
adds. Wall-clock figures on a shared machine: compare columns of one run.

    python benchmarks/client_overhead.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from naive_nb import AsyncClient, Client
from naive_nb.local import LocalServer, serve_local

MODEL = "fal-ai/flux/schnell"


CASES = ("get", "get, on_notice", "wait (done job)", "submit")


def ignore(_: object) -> None:
    return None


def timed(call: Callable[[], object], calls: int) -> float:
    for _ in range(5):  # warm-up: connections open, catalog cached
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def timed_async(call: Callable[[], Awaitable[object]], calls: int) -> float:
    for _ in range(5):
        await call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def sync_medians(server: LocalServer, job_id: str, calls: int) -> list[float]:
    key, url = server.api_key, server.url
    seeds = iter(range(10**6))
    with (
        Client(key, base_url=url) as plain,
        Client(key, base_url=url, on_notice=ignore) as noticed,
    ):
        return [
            timed(lambda: plain.get(job_id), calls),
            timed(lambda: noticed.get(job_id), calls),
            timed(lambda: plain.wait(job_id, on_update=ignore), calls),
            timed(lambda: plain.submit(MODEL, input_of(next(seeds)), on_submitted=ignore), calls),
        ]


async def async_medians(server: LocalServer, job_id: str, calls: int) -> list[float]:
    key, url = server.api_key, server.url
    seeds = iter(range(10**6, 2 * 10**6))
    async with (
        AsyncClient(key, base_url=url) as plain,
        AsyncClient(key, base_url=url, on_notice=ignore) as noticed,
    ):
        return [
            await timed_async(lambda: plain.get(job_id), calls),
            await timed_async(lambda: noticed.get(job_id), calls),
            await timed_async(lambda: plain.wait(job_id, on_update=ignore), calls),
            await timed_async(
                lambda: plain.submit(MODEL, input_of(next(seeds)), on_submitted=ignore), calls
            ),
        ]


def input_of(seed: int) -> dict[str, object]:
    return {"prompt": "a lighthouse", "seed": seed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with serve_local(time_scale=0.01, rate_limit=None) as server:
        with Client(server.api_key, base_url=server.url) as client:
            job_id = client.wait(client.submit(MODEL, input_of(0))).id
        async_ms = asyncio.run(async_medians(server, job_id, args.calls))
        sync_ms = sync_medians(server, job_id, args.calls)
    print(f"median of {args.calls} calls each, embedded server on loopback (milliseconds)\n")
    print("| call             | AsyncClient | Client | Client adds |")
    print("|------------------|-------------|--------|-------------|")
    for name, a, s in zip(CASES, async_ms, sync_ms, strict=True):
        print(f"| {name:<16} | {a * 1000:11.2f} | {s * 1000:6.2f} | {(s - a) * 1000:+11.2f} |")


if __name__ == "__main__":
    main()
