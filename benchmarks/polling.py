"""Polling benchmark: naive-nb's estimate-paced poller vs fixed-interval pollers.

Peer SDKs poll job status at a fixed interval (0.1 s, 0.5 s or 2 s). naive-nb paces its polls by
the job's ``estimated_seconds`` (see ``naive_nb/client/_polling.py``). This script runs the
same mix of jobs on the embedded server for each poller, one poller after the other, in one run.
Jobs last their model's real estimate +-20 % (time_scale 1: FLUX Schnell ~5 s, FLUX Dev ~10 s),
so a run takes about a minute.

For each poller it prints status requests per job (counted by the server) and the
completion-detection lag: the time from the job's ``completed_at`` (server clock) to the moment
the client saw ``completed`` (same machine, same clock).

    python benchmarks/polling.py [--jobs 40] [--stagger 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from naive_nb import AsyncClient, Job
from naive_nb.local import LocalServer, serve_local

MODELS = ("fal-ai/flux/schnell", "fal-ai/flux/dev")
FIXED = (0.1, 0.5, 2.0)


@dataclass
class Sample:
    job_id: str
    estimate: float
    lag: float


async def fixed_wait(client: AsyncClient, job: Job, interval: float) -> Job:
    """What a fixed-interval SDK does: sleep, look, repeat."""
    while True:
        await asyncio.sleep(interval)
        current = await client.get(job.id)
        if current.done:
            return current


async def run_poller(
    client: AsyncClient, interval: float | None, jobs: int, stagger: float
) -> list[Sample]:
    async def one(i: int) -> Sample:
        await asyncio.sleep(stagger * i / jobs)  # arrivals spread out, as in real use
        model = MODELS[i % len(MODELS)]
        job = await client.submit(
            model, {"prompt": f"benchmark {i}", "seed": i, "image_size": "square"}
        )
        if interval is None:
            done = await client.wait(job)
        else:
            done = await fixed_wait(client, job, interval)
        seen = time.time()
        assert done.completed_at is not None and job.estimated_seconds is not None
        return Sample(job.id, job.estimated_seconds, seen - done.completed_at.timestamp())

    return list(await asyncio.gather(*(one(i) for i in range(jobs))))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, samples: list[Sample], server: LocalServer) -> tuple[str, float, list[str]]:
    counts = Counter(r.path for r in server.request_log if r.method == "GET")
    requests = [counts[f"/v1/jobs/{s.job_id}"] for s in samples]
    lags = [s.lag for s in samples]
    relative = [s.lag / s.estimate for s in samples]
    mean_requests = statistics.mean(requests)
    cells = [
        name,
        f"{mean_requests:.1f}",
        f"{max(requests)}",
        f"{percentile(lags, 0.5):.2f}",
        f"{percentile(lags, 0.95):.2f}",
        f"{percentile(relative, 0.5):.3f}",
    ]
    return name, mean_requests, cells


async def main(jobs: int, stagger: float) -> None:
    with serve_local(time_scale=1.0, spread=0.2, workers=4 * jobs, rate_limit=None) as server:
        async with AsyncClient(server.api_key, base_url=server.url) as client:
            await client.models()
            rows = []
            started = time.monotonic()
            for name, interval in [("naive-nb (estimate-paced)", None)] + [
                (f"fixed {i:g} s", i) for i in FIXED
            ]:
                samples = await run_poller(client, interval, jobs, stagger)
                rows.append(row(name, samples, server))
            elapsed = time.monotonic() - started
    header = [
        "poller",
        "status req/job",
        "max req/job",
        "lag p50 (s)",
        "lag p95 (s)",
        "lag p50 / estimate",
    ]
    widths = [max(len(header[c]), *(len(r[2][c]) for r in rows)) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(
        f"{jobs} jobs per poller ({', '.join(MODELS)}; estimates 5 s and 10 s, +-20 %), "
        f"embedded server, {elapsed:.0f} s in all"
    )
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for _, _, cells in rows:
        print(line(cells))
    ours = rows[0][1]
    half_second = next(r[1] for r in rows if r[0] == "fixed 0.5 s")
    print(f"naive-nb sends {half_second / ours:.1f}x fewer status requests than the 0.5 s poller.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=40, help="jobs per poller (default 40)")
    parser.add_argument(
        "--stagger", type=float, default=3.0, help="seconds over which submits arrive"
    )
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.stagger))
