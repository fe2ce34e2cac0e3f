"""Polling benchmark: naive-nb's estimate-paced poller against fixed-interval pollers, on several
distributions of real job times.

Peer SDKs poll job status at a fixed interval (0.1 s to 2 s). naive-nb paces its polls by the
job's ``estimated_seconds`` (``naive_nb/client/_polling.py``), which real jobs do not keep to.
For each case below the embedded server is started with that ``Timing``
(``naive_nb/local/timing.py``), and the pollers run side by side on it, each with its own
client and its own jobs: naive-nb (``AsyncClient.wait``, a fresh client per case, so nothing
learned carries over), and fixed 0.5 s and 2 s pollers (sleep, ``GET``, repeat). Where replies
carry no progress, "naive-nb, told" is the same wait with its schedule told so
(``PollSchedule(expect_progress=False)``, through ``AsyncClient(poll_schedule=...)``): what the
wait would do if it remembered that a server sends none.

Cases (the server announces each model's estimate; reality deviates from it):
  uniform        estimate +-20 %: the embedded server's default
  lognormal      median at the estimate, sigma 0.35 (p95 1.78x the median)
  long tail      lognormal, and 10 % of jobs (cold starts) take 3x as long
  queue delay    lognormal, after a queue wait drawn per job (exponential, mean 1 s)
  no progress    lognormal, replies carry no ``progress``
  uniform no progress  estimate +-20 %, replies carry no ``progress``

Jobs alternate FLUX Schnell (estimate 5 s) and FLUX Dev (10 s) at time scale 1 (real time:
polling intervals are in seconds, so scaling time down would flatter the fixed pollers' lag and
requests), arriving over ``--stagger`` seconds; workers are many, so no job waits for one. For
each poller: status requests per job (``GET /v1/jobs/{id}``, counted by the server), and the
completion-detection lag, from the job's ``completed_at`` (server clock) to the moment the
client saw ``completed`` (same machine, same clock), in seconds and as a fraction of the
job's estimate. Targets (issue 10), on every case: at most 2 status requests per job, lag p50
at most 0.05x the estimate, p95 at most 0.15x.

Real time makes a run take about three minutes (60 jobs per poller and case). The client's
event loop is watched too: on a busy machine it wakes late, and that adds to every lag.

    python benchmarks/polling.py [--jobs 60] [--stagger 3] [--cases uniform,lognormal,...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from naive_nb import AsyncClient, Job
from naive_nb.client._polling import PollSchedule
from naive_nb.local import LocalServer, Timing, serve_local

MODELS = ("fal-ai/flux/schnell", "fal-ai/flux/dev")
FIXED = (0.5, 2.0)
TARGET_REQUESTS, TARGET_P50, TARGET_P95 = 2.0, 0.05, 0.15
SIGMA = 0.35

CASES: dict[str, Timing] = {
    "uniform": Timing(),
    "lognormal": Timing(distribution="lognormal", sigma=SIGMA),
    "long tail": Timing(distribution="lognormal", sigma=SIGMA, slow_rate=0.1, slow_factor=3.0),
    "queue delay": Timing(distribution="lognormal", sigma=SIGMA, queue_delay=1.0),
    "no progress": Timing(distribution="lognormal", sigma=SIGMA, omit_progress=True),
    "uniform no progress": Timing(omit_progress=True),
}


@dataclass
class Poller:
    name: str
    interval: float | None = None  # a fixed-interval poller; None: naive-nb's `wait`
    expect_progress: bool = True  # False: the schedule is told that no progress will come


def pollers(timing: Timing) -> list[Poller]:
    chosen = [Poller("naive-nb")]
    if timing.omit_progress:
        # what the wait would do if it remembered that this server sends no progress
        chosen.append(Poller("naive-nb, told", expect_progress=False))
    return chosen + [Poller(f"fixed {interval:g} s", interval) for interval in FIXED]


def told_no_progress(estimate: float | None, start: float) -> PollSchedule:
    return PollSchedule(estimate, start=start, expect_progress=False)


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
    server: LocalServer, poller: Poller, jobs: int, stagger: float
) -> list[Sample]:
    schedule = None if poller.expect_progress else told_no_progress
    async with AsyncClient(server.api_key, base_url=server.url, poll_schedule=schedule) as client:

        async def one(i: int) -> Sample:
            await asyncio.sleep(stagger * i / jobs)  # arrivals spread out, as in real use
            model = MODELS[i % len(MODELS)]
            job = await client.submit(
                model, {"prompt": f"{poller.name} {i}", "seed": i, "image_size": "square"}
            )
            if poller.interval is None:
                done = await client.wait(job)
            else:
                done = await fixed_wait(client, job, poller.interval)
            seen = time.time()
            assert done.completed_at is not None and job.estimated_seconds is not None
            return Sample(job.id, job.estimated_seconds, seen - done.completed_at.timestamp())

        return list(await asyncio.gather(*(one(i) for i in range(jobs))))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Row:
    case: str
    poller: str
    requests: float
    max_requests: int
    p50: float
    p95: float
    p50_rel: float
    p95_rel: float

    @property
    def meets_targets(self) -> bool:
        return (
            self.requests <= TARGET_REQUESTS
            and self.p50_rel <= TARGET_P50
            and self.p95_rel <= TARGET_P95
        )

    def cells(self) -> list[str]:
        return [
            self.case,
            self.poller,
            f"{self.requests:.2f}",
            f"{self.max_requests}",
            f"{self.p50:.2f}",
            f"{self.p95:.2f}",
            f"{self.p50_rel:.3f}",
            f"{self.p95_rel:.3f}",
            "yes" if self.meets_targets else "no",
        ]


def summarise(case: str, poller: str, samples: list[Sample], server: LocalServer) -> Row:
    counts = Counter(r.path for r in server.request_log if r.method == "GET")
    requests = [counts[f"/v1/jobs/{s.job_id}"] for s in samples]
    lags = [s.lag for s in samples]
    relative = [s.lag / s.estimate for s in samples]
    return Row(
        case,
        poller,
        statistics.mean(requests),
        max(requests),
        percentile(lags, 0.5),
        percentile(lags, 0.95),
        percentile(relative, 0.5),
        percentile(relative, 0.95),
    )


def realised(server: LocalServer) -> str:
    """What the jobs really did, as multiples of their estimate: the case as measured."""

    def at(stamp: object) -> float:
        assert isinstance(stamp, str)
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    runs, queues = [], []
    for job in server.jobs():
        estimate = float(job["metadata"]["estimated_seconds"])
        runs.append((at(job["completed_at"]) - at(job["started_at"])) / estimate)
        queues.append(at(job["started_at"]) - at(job["created_at"]))
    return (
        f"run/estimate p5 {percentile(runs, 0.05):.2f}, p50 {percentile(runs, 0.5):.2f}, "
        f"p95 {percentile(runs, 0.95):.2f}; queued mean {statistics.mean(queues):.2f} s"
    )


async def watch_stalls(stalls: list[float], period: float = 0.05) -> None:
    """How late this event loop wakes from a short sleep: what a busy machine adds to every lag."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(period)
        stalls.append(time.monotonic() - before - period)


async def run_case(case: str, timing: Timing, jobs: int, stagger: float) -> tuple[list[Row], str]:
    chosen = pollers(timing)
    stalls: list[float] = []
    watcher = asyncio.create_task(watch_stalls(stalls))
    with serve_local(time_scale=1.0, workers=8 * jobs, rate_limit=None, timing=timing) as server:
        results = await asyncio.gather(*(run_poller(server, p, jobs, stagger) for p in chosen))
        watcher.cancel()
        rows = [
            summarise(case, poller.name, samples, server)
            for poller, samples in zip(chosen, results, strict=True)
        ]
        stalled = (
            f"; loop wake-up late by p99 {percentile(stalls, 0.99):.3f} s, max {max(stalls):.2f} s"
        )
        return rows, realised(server) + stalled


def table(rows: list[Row]) -> str:
    header = [
        "distribution",
        "poller",
        "status req/job",
        "max",
        "lag p50 (s)",
        "lag p95 (s)",
        "p50 / est",
        "p95 / est",
        "targets met",
    ]
    body = [row.cells() for row in rows]
    widths = [max(len(header[c]), *(len(r[c]) for r in body)) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(cells) for cells in body]
    return "\n".join(out)


async def main(jobs: int, stagger: float, cases: list[str]) -> None:
    started = time.monotonic()
    rows: list[Row] = []
    notes = []
    for case in cases:
        case_rows, measured = await run_case(case, CASES[case], jobs, stagger)
        rows += case_rows
        notes.append(f"  {case}: {measured}")
        print(f"[{time.monotonic() - started:.0f} s] {case} done", flush=True)
    elapsed = time.monotonic() - started
    print(
        f"\n{jobs} jobs per poller and case ({', '.join(MODELS)}; estimates 5 s and 10 s), "
        f"time scale 1, embedded server, {elapsed:.0f} s in all"
    )
    print(
        f"targets: <= {TARGET_REQUESTS:g} status requests per job, lag p50 <= {TARGET_P50}x "
        f"and p95 <= {TARGET_P95}x the estimate"
    )
    print(table(rows))
    print(
        "job times as measured (all pollers' jobs), and how late the client's event loop woke "
        "(a busy machine adds that to every lag):"
    )
    print("\n".join(notes))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=60, help="jobs per poller and case (60)")
    parser.add_argument(
        "--stagger", type=float, default=3.0, help="seconds over which submits arrive (3)"
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated, from: {', '.join(CASES)} (default: all)",
    )
    args = parser.parse_args()
    chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {', '.join(unknown)}; choose from {', '.join(CASES)}")
    asyncio.run(main(args.jobs, args.stagger, chosen))
