"""Sweep benchmark (issue 10): a 32-job sweep under a 60 requests/min rate limit, naive-nb's
runner side by side with a naive ``asyncio.gather`` of per-job fixed-interval pollers, for 5 s
and 15 s jobs.

The embedded server runs at real time with 4 workers, a 60 requests/min limit (its fixed
one-minute window, starting at the first request, as Naive's ``X-RateLimit-Reset`` suggests) and
exact job times (spread 0). Each approach gets a fresh server (its own window and ledger) and a
fresh process (nothing learnt carries over), makes the same 32 seeded jobs, and downloads every
image:

- **naive-nb**: ``naive_nb.compare(prompt, seeds=..., confirm=True)``, the public sweep API (the
  plan line's price, the catalog, the concurrent runner within the client's limiter: job slots
  that follow the request budget, submits before polls when the budget is short, polls of jobs
  queued behind others deferred, one shared 429 pause);
- **naive gather**: every job submitted at once, then one task per job that sleeps a fixed
  interval and asks for its status until it is done, then downloads; a 429 makes that task
  (only) sleep its ``Retry-After`` and try again; what a quick script does.

Two bounds, per case:

- the **ideal**: jobs / workers x job time (the workers never idle);
- the **floor**: the rate limit bounds any client too. Each job needs a submit and at least one
  status read that finds it done: 2 x jobs requests (naive-nb also reads the catalog and the
  price: 2 more). A fixed window lets ``limit`` requests through per minute from the first one,
  so request number n cannot go before ``60 x floor((n - 1) / limit)`` s: the floor is
  ``max(ideal, 60 x floor((requests - 1) / limit))``. For 32 jobs of 5 s that is 60 s (1.5x the
  ideal of 40 s: the 61st request waits for the second window, whatever the client does); for
  15 s jobs it is the ideal, 120 s.

Reported per approach, from the server's request log and job records: wall time against the
ideal and the floor, requests to ``/v1``, 429s (all, and after the first minute: "steady
state"), status requests per job, and idle worker-seconds before the last job started (a worker
with no job of ours queued for it: what a client that submits too late costs). Targets (issue
10): within 1.1x of the ideal (here: of the floor, where the rate limit makes the ideal
unreachable), zero 429s in steady state, fewer requests than the naive approach.

    python benchmarks/sweep.py [--seconds 5,15] [--jobs 32] [--interval 1] [--skip-naive]

Takes about 6 minutes (real time: polling intervals are seconds, and the rate-limit window is a
real minute). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from naive_nb.local import LocalServer, Timing, serve_local  # noqa: E402

WORKERS = 4
RATE_LIMIT = 60
WINDOW = 60.0
MODELS = {5.0: "fal-ai/flux/schnell", 10.0: "fal-ai/flux/dev", 15.0: "fal-ai/flux-pro/v1.1"}
PROMPT = "a lighthouse at dusk, long exposure"
TARGET_RATIO = 1.1


def floor_seconds(jobs: int, seconds: float, extra_requests: int = 0) -> float:
    """The least wall time any client can reach (see the module docstring)."""
    ideal = jobs / WORKERS * seconds
    requests = 2 * jobs + extra_requests
    return max(ideal, WINDOW * math.floor((requests - 1) / RATE_LIMIT))


@dataclass
class Row:
    seconds: float
    name: str
    wall: float
    requests: int
    rejected: int
    steady_rejected: int
    status_per_job: float
    idle: float

    def cells(self, jobs: int) -> list[str]:
        ideal = jobs / WORKERS * self.seconds
        floor = floor_seconds(jobs, self.seconds)
        return [
            f"{self.seconds:g} s",
            self.name,
            f"{self.wall:.1f}",
            f"{ideal:g}",
            f"{self.wall / ideal:.2f}x",
            f"{floor:g}",
            f"{self.wall / floor:.2f}x",
            str(self.requests),
            str(self.rejected),
            str(self.steady_rejected),
            f"{self.status_per_job:.2f}",
            f"{self.idle:.0f}",
        ]


def _server() -> LocalServer:
    return serve_local(
        time_scale=1.0,
        workers=WORKERS,
        rate_limit=RATE_LIMIT,
        balance=10_000.0,
        timing=Timing(spread=0.0),
    )


def idle_worker_seconds(server: LocalServer) -> float:
    """Worker-seconds with no job running, from the first job's creation to the last start:
    time a worker sat idle while the sweep still had jobs to run, none queued for it."""

    def at(stamp: object) -> float:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()

    jobs = server.jobs()
    if not jobs:
        return 0.0
    begin = min(at(j["created_at"]) for j in jobs)
    last_start = max(at(j["started_at"]) for j in jobs)
    events = sorted(
        [(at(j["started_at"]), 1) for j in jobs]
        + [(at(j["completed_at"]), -1) for j in jobs if at(j["completed_at"]) < last_start]
    )
    idle, busy, clock = 0.0, 0, begin
    for moment, change in events:
        idle += (WORKERS - busy) * max(0.0, moment - clock)
        busy, clock = busy + change, max(clock, moment)
    return idle


def _row(name: str, server: LocalServer, wall: float, seconds: float) -> Row:
    log = [r for r in server.request_log if r.path.startswith("/v1/")]
    status = Counter(r.path for r in log if r.method == "GET" and r.path.startswith("/v1/jobs/"))
    rejected = sum(1 for r in log if r.status == 429)
    # "steady state": after the first minute's window; a 429 there means the client kept
    # sending into a spent budget instead of waiting for the window's reset
    start = log[0].time if log else 0.0
    steady = sum(1 for r in log if r.status == 429 and r.time - start >= WINDOW)
    per_job = statistics.mean(status.values()) if status else 0.0
    idle = idle_worker_seconds(server)
    return Row(seconds, name, wall, len(log), rejected, steady, per_job, idle)


def run_naive_nb(seconds: float, jobs: int) -> Row:
    """The public sweep API against a fresh server (this process's standalone session)."""
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
                    model=MODELS[seconds],
                    seeds=list(range(1, jobs + 1)),
                    size="square",
                    confirm=True,
                )
            wall = time.perf_counter() - start
        finally:
            os.chdir(home)
        if len(result.images) != jobs or not result.ok:
            raise RuntimeError(f"naive-nb: {len(result.images)} images, {result.failures}")
        return _row("naive-nb", server, wall, seconds)


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


def run_naive(seconds: float, jobs: int, interval: float) -> Row:
    with _server() as server:
        start = time.perf_counter()
        asyncio.run(_naive(server, MODELS[seconds], jobs, interval))
        wall = time.perf_counter() - start
        return _row(f"naive gather, {interval:g} s", server, wall, seconds)


def in_fresh_process(approach: str, seconds: float, jobs: int, interval: float) -> Row:
    """One approach and case in a new interpreter (a fresh session, nothing learnt)."""
    command = [sys.executable, __file__, "--one", approach, "--seconds", f"{seconds:g}"]
    command += ["--jobs", str(jobs), "--interval", f"{interval:g}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{approach}, {seconds:g} s jobs failed:\n{done.stderr}")
    return Row(**json.loads(done.stdout.strip().splitlines()[-1]))


def table(rows: list[Row], jobs: int) -> str:
    header = [
        "job time",
        "approach",
        "wall s",
        "ideal s",
        "/ ideal",
        "floor s",
        "/ floor",
        "requests",
        "429s",
        "429s after 60 s",
        "status/job",
        "idle worker-s",
    ]
    body = [row.cells(jobs) for row in rows]
    widths = [max(len(header[c]), *(len(r[c]) for r in body)) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(cells) for cells in body])


def _yes(held: bool) -> str:
    return "yes" if held else "no"


def verdicts(rows: list[Row], jobs: int) -> list[str]:
    out = []
    for ours in (r for r in rows if r.name == "naive-nb"):
        floor = floor_seconds(jobs, ours.seconds)
        naive = [r for r in rows if r.seconds == ours.seconds and r is not ours]
        said = [
            f"within {TARGET_RATIO}x of the floor: {_yes(ours.wall / floor <= TARGET_RATIO)}",
            f"zero 429s in steady state: {_yes(ours.steady_rejected == 0)}",
        ]
        if naive:
            fewer = ours.requests < naive[0].requests
            said.append(f"fewer requests than the naive approach: {'yes' if fewer else 'no'}")
        out.append(f"targets (naive-nb, {ours.seconds:g} s jobs): " + "; ".join(said))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", default="5,15", help="job times to run: 5, 10, 15 (5,15)")
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--interval", type=float, default=1.0, help="the naive poller's sleep")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--one", choices=("naive-nb", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = [float(s) for s in args.seconds.split(",") if s.strip()]
    unknown = [c for c in cases if c not in MODELS]
    if unknown:
        parser.error(f"--seconds: {unknown[0]:g} has no model; choose from 5, 10, 15")
    if args.one:  # a child process: one run, its row as JSON on the last line
        seconds = cases[0]
        if args.one == "naive-nb":
            row = run_naive_nb(seconds, args.jobs)
        else:
            row = run_naive(seconds, args.jobs, args.interval)
        print(json.dumps(asdict(row)))
        return
    print(
        f"{args.jobs} jobs, {WORKERS} workers, {RATE_LIMIT} requests/min (fixed one-minute "
        "windows from the first request), exact job times; each run in a fresh process and server"
    )
    rows = []
    for seconds in cases:
        rows.append(in_fresh_process("naive-nb", seconds, args.jobs, args.interval))
        if not args.skip_naive:
            rows.append(in_fresh_process("naive", seconds, args.jobs, args.interval))
        print(f"  {seconds:g} s jobs done", flush=True)
    print(table(rows, args.jobs))
    print("\n".join(verdicts(rows, args.jobs)))


if __name__ == "__main__":
    main()
