"""The lineup of a client's jobs in flight (sans-IO): when a job queued behind others of ours
should reach a worker, and only on evidence."""

from __future__ import annotations

from naive_nb.client._lineup import Lineup


def _sweep(jobs: int, seconds: float = 10.0) -> Lineup:
    """``jobs`` jobs of one model accepted at 0.0, 0.1, 0.2, ... (j0 oldest), estimated at
    ``seconds``, none looked at yet."""
    line = Lineup()
    for n in range(jobs):
        line.add(f"j{n}", accepted=n / 10, seconds=seconds, model="m", estimate=seconds)
    return line


def test_no_prediction_without_evidence_of_a_queue_behind_our_jobs() -> None:
    line = _sweep(6)
    assert [line.start_of(f"j{n}") for n in range(6)] == [None] * 6  # nothing seen yet
    lone = Lineup()
    lone.add("solo", accepted=0.0, seconds=10.0)
    lone.saw("solo", now=6.0, status="queued")  # queued, but behind nobody of ours
    assert lone.capacity is None and lone.start_of("solo") is None


def test_one_job_seen_waiting_may_be_a_providers_delay_not_a_queue_behind_ours() -> None:
    line = _sweep(4)
    line.saw("j0", now=6.0, status="processing", progress=60.0, running_since=0.0)
    line.saw("j1", now=6.0, status="queued")
    assert line.start_of("j2") is None  # a younger job's look is not put off on one sighting
    line.saw("j2", now=6.1, status="processing", progress=5.0, running_since=0.2)
    assert not line.in_order  # and that look caught the provider out: j2 runs, j1 waits


def test_waiting_jobs_behind_a_growing_number_of_ours_are_no_full_server() -> None:
    line = _sweep(4)
    line.saw("j0", now=6.0, status="processing", progress=60.0, running_since=0.0)
    line.saw("j1", now=6.0, status="queued")  # one of ours ahead of it
    line.saw("j1", now=7.0, status="processing", progress=10.0, running_since=6.5)
    line.saw("j3", now=8.0, status="queued")  # three ahead of it now: workers were free
    assert line.in_order and line.start_of("j3") is None


def test_jobs_behind_others_start_as_the_workers_free_in_order() -> None:
    line = _sweep(8)
    # two workers: j0 and j1 run (at 60 % and 40 %), j2 is seen waiting
    line.saw("j0", now=6.0, status="processing", progress=60.0, running_since=0.0)
    line.saw("j1", now=6.0, status="processing", progress=40.0, running_since=2.0)
    line.saw("j2", now=6.0, status="queued")
    line.saw("j3", now=6.0, status="queued")  # a second one waiting: a queue behind ours
    assert line.capacity == 2
    # j0 ends at 10, j1 at 12; then j2 takes j0's worker (10 -> 20), j3 j1's (12 -> 22),
    # j4 follows j2 (20), j5 follows j3 (22), j6 at 30, j7 at 32
    assert line.start_of("j2") == 10.0
    assert line.start_of("j3") == 12.0
    assert [line.start_of(f"j{n}") for n in range(4, 8)] == [20.0, 22.0, 30.0, 32.0]
    assert line.start_of("j0") is None  # running: its own schedule


def test_a_finished_job_frees_its_worker_when_it_ended_not_before() -> None:
    line = _sweep(4)
    line.saw("j0", now=5.0, status="processing", progress=50.0, running_since=0.0)
    line.saw("j1", now=5.0, status="queued")
    line.saw("j2", now=5.0, status="queued")
    assert line.capacity == 1
    # seen done late (the budget held the look back): its worker freed when it ended, at 10.2
    line.saw("j0", now=30.0, status="completed", ended=10.2)
    assert line.start_of("j1") == 10.2
    assert line.start_of("j2") == 20.2  # j1 is still taken to run from 10.2, for 10 s


def test_a_job_that_overtakes_an_older_queued_one_stops_all_prediction() -> None:
    line = _sweep(5)
    line.saw("j0", now=5.0, status="processing", progress=50.0, running_since=0.0)
    line.saw("j1", now=5.0, status="queued")
    line.saw("j2", now=5.0, status="queued")
    assert line.start_of("j3") is not None
    # j3 runs since 5.5 (after j1's look: nothing wrong yet), but j1, older, is still queued at
    # 8.1: the server does not take our jobs in order
    line.saw("j3", now=8.0, status="processing", progress=20.0, running_since=5.5)
    assert line.in_order
    line.saw("j1", now=8.1, status="queued")
    assert not line.in_order
    assert [line.start_of(f"j{n}") for n in (1, 2, 4)] == [None, None, None]


def test_a_job_seen_running_after_an_older_one_was_seen_waiting_breaks_the_order() -> None:
    line = _sweep(3)
    line.saw("j0", now=5.0, status="processing", progress=50.0, running_since=0.0)
    line.saw("j1", now=6.0, status="queued")
    # j2 runs since 5.0, yet j1 (older) was still waiting at 6.0
    line.saw("j2", now=7.0, status="processing", progress=10.0, running_since=5.0)
    assert not line.in_order and line.start_of("j1") is None


def test_changes_are_counted_only_while_the_lineup_predicts() -> None:
    line = _sweep(3)
    line.saw("j0", now=5.0, status="processing", progress=50.0, running_since=0.0)
    assert line.changes == 0  # nothing predicted: no wait needs to plan again
    line.saw("j1", now=5.0, status="queued")
    assert line.changes == 0  # one job waiting is no evidence yet
    line.saw("j2", now=5.0, status="queued")
    assert line.changes == 1  # predictions start: waits plan again
    line.saw("j0", now=10.5, status="completed", ended=10.0)
    assert line.changes == 2


def test_jobs_that_run_shorter_than_their_estimate_shorten_the_wait_predicted() -> None:
    # a cautious estimate (10 s) for jobs that really take 1 s: once ours are seen ending that
    # fast, a job queued behind them is expected to start seconds, not whole estimates, later
    line = _sweep(6)
    line.saw("j0", now=0.5, status="processing", progress=50.0, running_since=0.0)
    line.saw("j1", now=0.5, status="queued")
    line.saw("j2", now=0.5, status="queued")
    assert line.capacity == 1
    assert line.start_of("j5") == 1.0 + 4 * 10.0  # j0 ends at 1.0; j1-j4 ahead, 10 s each
    line.saw("j0", now=1.2, status="completed", running_since=0.0, ended=1.0)
    line.saw("j1", now=2.1, status="completed", running_since=1.0, ended=2.0)
    # j0 and j1 ran 1/10 of their estimate: j2, j3, j4 are taken to take 1 s each
    assert abs(line.start_of("j5") - (2.0 + 3 * 1.0)) < 1e-9
    assert abs(line.pace("j5") - 0.1) < 1e-9
    # a job whose expected time was learnt since (1.2 s) is not shortened twice
    line.add("late", accepted=0.9, seconds=1.2, model="m", estimate=10.0)
    assert abs(line.pace("late") - 1.0 / 1.2) < 1e-9
    # nor is a job of another model, of which nothing has ended yet
    line.add("other", accepted=0.95, seconds=10.0, model="n", estimate=10.0)
    assert line.pace("other") == 1.0


def test_jobs_that_run_longer_than_their_estimate_do_not_put_looks_off() -> None:
    line = _sweep(4)
    line.saw("j0", now=5.0, status="processing", progress=50.0, running_since=0.0)
    line.saw("j1", now=5.0, status="queued")
    line.saw("j2", now=5.0, status="queued")
    line.saw("j0", now=31.0, status="completed", running_since=0.0, ended=30.0)  # 3x its estimate
    assert line.start_of("j2") == 40.0  # j1 from 30, for its estimate of 10 s: no more
