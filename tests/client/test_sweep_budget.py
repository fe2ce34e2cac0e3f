"""A sweep under a tight rate limit, over real HTTP against the embedded server (issue 10).

The sweep needs more requests than one window allows, so it spans two windows (the test takes a
little over a minute: the server's window is a real minute). What the server's request log and
job records must show: no 429 after the first window; no status poll ever took a request that
the sweep's unsubmitted jobs needed (submits go first when the budget is short, and the job
slots run ahead of the steady cap); and no worker sat idle for lack of a submit while the
window had budget left.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from naive_nb.client import Client
from naive_nb.local import RequestRecord, Timing, serve_local
from naive_nb.run import Request, Session, Settings
from tests.conftest import CANARY_KEY

PRO = "fal-ai/flux-pro/v1.1"  # 15 s a job, 3 s at time scale 0.2
WORKERS = 2
LIMIT = 24  # the sweep needs 2 reads + 16 submits + at least 16 looks: 34
JOBS = 16
WINDOW = 60.0


def _windows(log: list[RequestRecord]) -> tuple[list[int], list[float]]:
    """Which of the server's fixed windows each request fell in, and when each window began:
    a window starts at the first request 60 s or more after the previous one's start (its
    ``RateLimiter``)."""
    out: list[int] = []
    starts: list[float] = []
    for record in log:
        if not starts or record.time - starts[-1] >= WINDOW:
            starts.append(record.time)
        out.append(len(starts) - 1)
    return out, starts


def test_a_tight_limit_feeds_every_worker_first_and_sends_nothing_into_a_spent_window(
    tmp_path: Path,
) -> None:
    offset = time.time() - time.monotonic()  # server job times are wall clock, the log monotonic
    with serve_local(
        api_key=CANARY_KEY,
        time_scale=0.2,
        workers=WORKERS,
        rate_limit=LIMIT,
        balance=1000.0,
        timing=Timing(spread=0.0),
    ) as server:
        with Client(CANARY_KEY, base_url=server.url) as client:
            session = Session(
                Settings(store=tmp_path, image_size="square"), client, progress_interval=0.0
            )
            plan = session.plan(Request("a lighthouse", model=PRO, seeds=tuple(range(1, 17))))
            outcome = session.run(plan)
        log = [r for r in server.request_log if r.path.startswith("/v1/")]
        jobs = server.jobs()
    assert outcome.ok and len(outcome.records) == JOBS and len(jobs) == JOBS

    windows, starts = _windows(log)
    assert windows[-1] >= 1  # the sweep did need a second window
    late_429s = [r for r, w in zip(log, windows, strict=True) if w > 0 and r.status == 429]
    assert late_429s == []

    # No status poll took a request the unsubmitted jobs needed: after each poll, the window
    # still had at least one request per job not yet submitted.
    used = [0] * (windows[-1] + 1)
    submitted = 0
    used_by: list[tuple[float, int, int]] = []  # (time, window, requests used in it so far)
    for record, window in zip(log, windows, strict=True):
        if record.status != 429:
            used[window] += 1
        if record.method == "POST" and record.status == 202:
            submitted += 1
        if record.method == "GET" and record.path.startswith("/v1/jobs/"):
            left = LIMIT - used[window]
            assert left >= JOBS - submitted, (
                f"a poll at {record.time - log[0].time:.2f} s left {left} requests in the "
                f"window for {JOBS - submitted} jobs still to submit"
            )
        used_by.append((record.time, window, used[window]))

    # No worker idle for lack of a submit while budget remained: whenever a job of ours ended
    # with none queued behind it and jobs still unsubmitted, the window's budget was spent.
    def mono(stamp: object) -> float:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp() - offset

    created = [mono(j["created_at"]) for j in jobs]
    started = [mono(j["started_at"]) for j in jobs]
    for ended in (mono(j["completed_at"]) for j in jobs):
        queued = sum(1 for c, s in zip(created, started, strict=True) if c <= ended < s)
        posts = sum(1 for r in log if r.method == "POST" and r.status == 202 and r.time <= ended)
        if queued or posts == JOBS:
            continue
        before = [(w, n) for t, w, n in used_by if t <= ended]
        window, spent = before[-1]
        if ended - starts[window] >= WINDOW:
            window, spent = window + 1, 0  # that window was over: a fresh one, nothing spent
        assert spent == LIMIT, (
            f"a worker went idle at {ended - log[0].time:.2f} s with {JOBS - posts} jobs "
            f"unsubmitted and {LIMIT - spent} requests left in window {window}"
        )
