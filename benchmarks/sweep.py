"""Sweep benchmark (issue 10): a 32-job sweep under a 60 requests/min rate limit, naive-nb's
runner side by side with a naive ``asyncio.gather`` of per-job fixed-interval pollers.

The embedded server runs at real time with 4 workers, a 60 requests/min limit (its fixed
one-minute window, as Naive's ``X-RateLimit-Reset`` suggests) and exact job times (spread 0), so
the ideal is exact: jobs / workers x job time. Each approach gets a fresh server (its own window
and ledger), makes the same 32 seeded jobs, and downloads every image:

- **naive-nb**: ``naive_nb.compare(prompt, seeds=..., confirm=True)``, the public sweep API (the
  plan line's price, the catalog, the concurrent runner within the client's limiter: jobs in
  flight, the request budget from the rate-limit headers, one shared 429 pause);
- **naive gather**: every job submitted at once, then one task per job that sleeps a fixed
  interval and asks for its status until it is done, then downloads; a 429 makes that task
  (only) sleep its ``Retry-After`` and try again; what a quick script does.

Reported per approach, from the server's request log: wall time and its ratio to the ideal,
requests to ``/v1`` (submits, status, catalog, price), 429s received, status requests per job.
Targets (issue 10): within 1.1x of the ideal, zero 429s in steady state, fewer requests than the
naive approach.

A limit of 60 requests a minute also bounds what any client can do: each job needs a submit and
at least one status read, so 32 jobs need at least 64 requests, more than one minute's window
allows. With FLUX Schnell (5 s a job: an ideal of 40 s) every client must wait for the second
window, so no client reaches 1.1x of that ideal; the default model is FLUX Pro 1.1 (15 s: an
ideal of 120 s, two windows). ``--model fal-ai/flux/schnell`` shows the bound.

    python benchmarks/sweep.py [--model ID] [--jobs 32] [--interval 1] [--skip-naive]

Takes about 2 minutes per approach with the default model (real time: polling intervals are
seconds, and the rate-limit window is a real minute). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from naive_nb.local import LocalServer, Timing, serve_local  # noqa: E402

WORKERS = 4
RATE_LIMIT = 60
SECONDS = {"fal-ai/flux/schnell": 5.0, "fal-ai/flux/dev": 10.0, "fal-ai/flux-pro/v1.1": 15.0}
PROMPT = "a lighthouse at dusk, long exposure"
TARGET_RATIO = 1.1


@dataclass
class Row:
    name: str
    wall: float
    ideal: float
    requests: int
    rejected: int
    status_per_job: float
    steady_rejected: int

    def cells(self) -> list[str]:
        return [
            self.name,
            f"{self.wall:.1f}",
            f"{self.wall / self.ideal:.2f}x",
            str(self.requests),
            str(self.rejected),
            str(self.steady_rejected),
            f"{self.status_per_job:.2f}",
        ]


def _server() -> LocalServer:
    return serve_local(
        time_scale=1.0,
        workers=WORKERS,
        rate_limit=RATE_LIMIT,
        balance=10_000.0,
        timing=Timing(spread=0.0),
    )


def _row(name: str, server: LocalServer, wall: float, ideal: float, jobs: int) -> Row:
    log = [r for r in server.request_log if r.path.startswith("/v1/")]
    status = Counter(r.path for r in log if r.method == "GET" and r.path.startswith("/v1/jobs/"))
    rejected = sum(1 for r in log if r.status == 429)
    # "steady state": after the first minute's window; a 429 there means the client kept
    # sending into a spent budget instead of waiting for the window's reset
    start = log[0].time if log else 0.0
    steady = sum(1 for r in log if r.status == 429 and r.time - start >= 60.0)
    per_job = statistics.mean(status.values()) if status else 0.0
    return Row(name, wall, ideal, len(log), rejected, per_job, steady)


def run_naive_nb(model: str, jobs: int, ideal: float) -> Row:
    """The public sweep API against a fresh server (the standalone session of this process)."""
    import naive_nb

    with _server() as server, tempfile.TemporaryDirectory() as work:
        os.environ["NAIVE_API_KEY"] = server.api_key
        os.environ["NAIVE_BASE_URL"] = server.url
        home = os.getcwd()
        os.chdir(work)
        try:
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # the progress line
                result = naive_nb.compare(
                    PROMPT,
                    model=model,
                    seeds=list(range(1, jobs + 1)),
                    size="square",
                    confirm=True,
                )
            wall = time.perf_counter() - start
        finally:
            os.chdir(home)
        if len(result.images) != jobs or not result.ok:
            raise RuntimeError(f"naive-nb: {len(result.images)} images, {result.failures}")
        return _row("naive-nb", server, wall, ideal, jobs)


async def _naive(server: LocalServer, model: str, jobs: int, interval: float) -> None:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:

        async def send(method: str, path: str, **kwargs: object) -> httpx.Response:
            while True:
                reply = await http.request(method, path, **kwargs)  # type: ignore[arg-type]
                if reply.status_code != 429:
                    reply.raise_for_status()
                    return reply
                await asyncio.sleep(float(reply.headers.get("Retry-After", "1")))

        async def one(seed: int) -> None:
            body = {
                "model": model,
                "input": {"prompt": PROMPT, "seed": seed, "image_size": "square"},
            }
            job = (await send("POST", "/v1/images/generate", json=body)).json()
            while True:
                await asyncio.sleep(interval)
                current = (await send("GET", f"/v1/jobs/{job['id']}")).json()
                if current["status"] == "completed":
                    break
                if current["status"] in ("failed", "cancelled"):
                    raise RuntimeError(current)
            for media in current["media"]:
                (await http.get(media["url"])).raise_for_status()

        await asyncio.gather(*(one(seed) for seed in range(1, jobs + 1)))


def run_naive(model: str, jobs: int, ideal: float, interval: float) -> Row:
    with _server() as server:
        start = time.perf_counter()
        asyncio.run(_naive(server, model, jobs, interval))
        wall = time.perf_counter() - start
        return _row(f"naive gather, {interval:g} s", server, wall, ideal, jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fal-ai/flux-pro/v1.1", choices=sorted(SECONDS))
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--interval", type=float, default=1.0, help="the naive poller's sleep")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    seconds = SECONDS[args.model]
    ideal = args.jobs / WORKERS * seconds
    print(
        f"{args.jobs} jobs of {args.model} ({seconds:g} s each), {WORKERS} workers, "
        f"{RATE_LIMIT} requests/min: ideal {ideal:g} s ({args.jobs} / {WORKERS} x {seconds:g} s)"
    )
    rows = [run_naive_nb(args.model, args.jobs, ideal)]
    if not args.skip_naive:
        rows.append(run_naive(args.model, args.jobs, ideal, args.interval))
    header = ["approach", "wall s", "/ ideal", "requests", "429s", "429s after 60 s", "status/job"]
    table = [header] + [row.cells() for row in rows]
    widths = [max(len(line[n]) for line in table) for n in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    ours = rows[0]
    within = ours.wall / ideal <= TARGET_RATIO
    verdicts = [
        f"within {TARGET_RATIO}x of the ideal: {'yes' if within else 'no'}",
        f"zero 429s in steady state: {'yes' if ours.steady_rejected == 0 else 'no'}",
    ]
    if len(rows) > 1:
        fewer = ours.requests < rows[1].requests
        verdicts.append(f"fewer requests than the naive approach: {'yes' if fewer else 'no'}")
    print("targets (naive-nb): " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
