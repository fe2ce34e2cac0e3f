from __future__ import annotations

import itertools
import random
import statistics

import pytest

from naive_nb._polling import PollSchedule


def simulate(estimate: float, duration: float, seed: int, queued_for: float = 0.0):
    """Drive a schedule with a fake clock against a job that finishes at ``duration``."""
    schedule = PollSchedule(estimate, start=0.0, rng=random.Random(seed))
    now, polls = 0.0, 0
    finish = queued_for + duration
    while True:
        now = schedule.next_at()
        polls += 1
        if now >= finish:
            return polls, now - finish
        status = "queued" if now < queued_for else "processing"
        schedule.observe(now=now, status=status)


@pytest.mark.parametrize("estimate", [0.5, 5.0, 15.0])
def test_jobs_near_their_estimate_need_few_polls_and_little_lag(estimate: float) -> None:
    rng = random.Random(3)
    runs = [simulate(estimate, estimate * rng.uniform(0.8, 1.2), seed=i) for i in range(400)]
    polls = [p for p, _ in runs]
    lags = sorted(lag for _, lag in runs)
    assert max(polls) <= 5
    assert statistics.mean(polls) <= 3.5
    assert statistics.median(lags) <= 0.1 * estimate
    assert lags[int(0.95 * len(lags))] <= 0.2 * estimate


def test_first_look_is_near_the_estimate() -> None:
    schedule = PollSchedule(10.0, start=100.0, rng=random.Random(0))
    assert 108.0 <= schedule.next_at() <= 109.0


def test_backs_off_to_the_cap_for_late_jobs() -> None:
    schedule = PollSchedule(1.0, start=0.0, rng=random.Random(0), cap=4.0)
    times = []
    for _ in range(30):
        now = schedule.next_at()
        times.append(now)
        schedule.observe(now=now, status="processing")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 4.0 + 0.05  # two jitters of +-0.25 x (0.1 x estimate)
    assert gaps[-1] >= 3.9  # reached the cap
    # non-decreasing (up to jitter) after the dense window
    assert all(b >= a - 0.05 for a, b in itertools.pairwise(gaps[4:]))


def test_a_queued_job_restarts_the_schedule() -> None:
    polls, lag = simulate(2.0, 2.0, seed=1, queued_for=10.0)
    assert lag <= 0.25
    assert polls <= 12


def test_retry_after_on_a_status_reply_is_honoured() -> None:
    schedule = PollSchedule(1.0, start=0.0, rng=random.Random(0))
    schedule.observe(now=0.9, status="processing", retry_after=5.0)
    assert schedule.next_at() >= 5.9


def test_tiny_estimates_respect_the_floor() -> None:
    schedule = PollSchedule(0.001, start=0.0, rng=random.Random(0), floor=0.02)
    schedule.observe(now=1.0, status="processing")
    assert schedule.next_at() >= 1.02


def test_unknown_estimate_uses_the_default() -> None:
    schedule = PollSchedule(None, start=0.0, rng=random.Random(0), default_estimate=4.0)
    assert 3.0 <= schedule.next_at() <= 3.6
