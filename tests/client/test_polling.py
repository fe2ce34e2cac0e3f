from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest

from naive_nb.client._polling import PollSchedule


def simulate(
    estimate: float,
    duration: float,
    seed: int,
    queued_for: float = 0.0,
    with_progress: bool = True,
) -> tuple[int, float]:
    """Drive a schedule with a fake clock against a job that finishes at ``duration``.

    The fake job reports progress like the API: an integer percentage, rounded down.
    """
    schedule = PollSchedule(estimate, start=0.0, rng=random.Random(seed))
    finish = queued_for + duration
    for polls in itertools.count(1):
        now = schedule.next_at()
        if now >= finish:
            return polls, now - finish
        if now < queued_for:
            schedule.observe(now=now, status="queued")
            continue
        progress = min(99, math.floor(100 * (now - queued_for) / duration))
        schedule.observe(
            now=now,
            status="processing",
            progress=progress if with_progress else None,
            running_since=queued_for if with_progress else None,
        )
    raise AssertionError("unreachable")


@pytest.mark.parametrize("estimate", [0.5, 5.0, 15.0])
def test_jobs_reporting_progress_need_about_one_and_a_half_polls(estimate: float) -> None:
    rng = random.Random(3)
    runs = [simulate(estimate, estimate * rng.uniform(0.8, 1.2), seed=i) for i in range(400)]
    polls = [p for p, _ in runs]
    lags = sorted(lag for _, lag in runs)
    assert max(polls) <= 3
    assert statistics.mean(polls) <= 1.6
    # a predicted look lands at least 50 ms after the predicted end (rendering, the reply)
    assert statistics.median(lags) <= max(0.1 * estimate, 0.06)
    assert lags[int(0.95 * len(lags))] <= 0.3 * estimate  # early finishers wait for 1.04 x


@pytest.mark.parametrize("estimate", [0.5, 5.0, 15.0])
def test_jobs_without_progress_still_take_few_polls(estimate: float) -> None:
    rng = random.Random(4)
    runs = [
        simulate(estimate, estimate * rng.uniform(0.8, 1.2), seed=i, with_progress=False)
        for i in range(400)
    ]
    polls = [p for p, _ in runs]
    lags = sorted(lag for _, lag in runs)
    assert max(polls) <= 3
    # without progress there is nothing to predict from: the median lag is ~0.11 x estimate
    assert statistics.median(lags) <= 0.125 * estimate
    assert lags[int(0.95 * len(lags))] <= 0.3 * estimate  # early finishers wait for 1.04 x


def test_first_look_is_just_after_the_estimate() -> None:
    schedule = PollSchedule(10.0, start=100.0, rng=random.Random(0))
    assert 110.2 <= schedule.next_at() <= 110.6  # 1.04 x the estimate, +-0.02 jitter


def test_progress_predicts_the_end() -> None:
    schedule = PollSchedule(10.0, start=0.0, rng=random.Random(0))
    # at t=10.8, running since t=1.8, 75 % done: ends at 1.8 + 9 / 0.75 = 13.8
    schedule.observe(now=10.8, status="processing", progress=75, running_since=1.8)
    assert 13.8 < schedule.next_at() <= 14.1


def test_predictions_are_bounded_then_it_backs_off() -> None:
    schedule = PollSchedule(1.0, start=0.0, rng=random.Random(0), cap=4.0)
    times = []
    for _ in range(30):
        now = schedule.next_at()
        times.append(now)
        # a job stuck at 99 % would make every prediction "just a bit later"
        schedule.observe(now=now, status="processing", progress=99, running_since=0.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[2] == pytest.approx(0.1)  # two predictions, then the dense steps
    assert max(gaps) == pytest.approx(4.0)
    assert gaps[-1] == pytest.approx(4.0)  # reached the cap
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(gaps[2:]))


def test_a_queued_job_restarts_the_schedule() -> None:
    polls, lag = simulate(2.0, 2.0, seed=1, queued_for=10.0)
    assert lag <= 0.25
    assert polls <= 8


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
    assert 4.2 <= schedule.next_at() <= 4.45


def test_an_early_low_progress_reading_does_not_push_the_next_look_late() -> None:
    # a look 0.06 s into a 3.6 s job reads 1 % (1.7 % rounded down): predicting from it would
    # plan the next look at 6 s; the schedule keeps to the estimate instead
    schedule = PollSchedule(3.0, start=0.0, rng=random.Random(0), jitter=0.0)
    schedule.observe(now=0.06, status="processing", progress=1, running_since=0.0)
    assert schedule.next_at() == pytest.approx(1.04 * 3.0)
    # from 10 % on, progress is precise enough to predict the end
    schedule.observe(now=3.24, status="processing", progress=90, running_since=0.0)
    assert schedule.next_at() == pytest.approx(3.6 + 0.06, abs=0.01)
