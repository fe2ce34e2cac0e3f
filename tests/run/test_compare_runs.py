"""Sweeps against the embedded server over real HTTP (issue 10): failed cells keep the grid's
shape, 429s lose nothing and are waited out, Ctrl-C keeps what finished, re-runs and added
values cost only the new cells, identical cells run once, and a failure keeps its error."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from naive_nb.client import AsyncClient, Client, Job
from naive_nb.errors import JobFailed, ProviderError
from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook import notes
from naive_nb.run import CancelToken, Request, RunInterrupted, RunProgress, Session
from naive_nb.run.axes import axis_from_spec, axis_from_values
from naive_nb.run.journal import JobJournal
from tests.conftest import CANARY_KEY
from tests.run.conftest import session_at

SCHNELL, DEV = "fal-ai/flux/schnell", "fal-ai/flux/dev"


def _session(root: Path, client: Any) -> Session:
    return session_at(root, client, image_size="square")


def _request(prompt: str, *specs: str, seeds: tuple[int, ...] = (1, 2)) -> Request:
    return Request(prompt, seeds=seeds, axes=tuple(axis_from_spec(s) for s in specs))


def _posts(server: LocalServer) -> int:
    return sum(1 for r in server.request_log if r.method == "POST")


def test_failed_cells_keep_their_place_and_the_rest_completes(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session = _session(tmp_path, client)
    # the embedded server fails every job whose prompt holds "[fail]"
    plan = session.plan(
        _request("a calm lake", "prompt:calm=calm,[fail]", f"model={SCHNELL},{DEV}")
    )
    outcome = session.run(plan)
    assert plan.shape == (2, 2, 2) and len(outcome.by_index) == 8
    statuses = {tuple(cell.coords.values()): cell.status for cell in outcome.cells()}
    assert statuses == {
        (seed, calm, model): "done" if calm == "calm" else "failed"
        for seed in (1, 2)
        for calm in ("calm", "[fail]")
        for model in (SCHNELL, DEV)
    }
    assert len(outcome.records) == 4 and len(outcome.failures) == 4
    for failure in outcome.failures:
        assert isinstance(failure.error, JobFailed) and failure.job_id
        assert failure.reason == failure.error.server_message.rstrip(". ")
    rows = outcome.rows()
    assert [row["status"] for row in rows].count("failed") == 4
    assert all(row["path"] and len(row["sha256"]) == 64 for row in rows if row["status"] == "done")


def test_a_rate_limit_loses_nothing_and_nothing_is_sent_inside_the_retry_after_window(
    tmp_path: Path,
) -> None:
    with serve_local(api_key=CANARY_KEY, time_scale=0.01, spread=0.2, rate_limit=None) as server:
        # one job in flight at a time: each request is sent after the previous reply came, so
        # the server's own clock shows exactly when the client sent again after each 429
        with Client(CANARY_KEY, base_url=server.url, max_jobs_in_flight=1) as client:
            session = _session(tmp_path, client)
            plan = session.plan(_request("a fox", f"model={SCHNELL},{DEV}"))
            server.faults.burst_retry_after = 1

            def limited_once_running(progress: RunProgress) -> None:
                if progress.done == 1 and not limited:
                    limited.append(True)
                    server.faults.rate_limit_burst = 2  # two 429s in a row, mid-sweep

            limited: list[bool] = []
            outcome = session.run(plan, observer=limited_once_running)
        log = list(server.request_log)
    assert limited and outcome.ok and len(outcome.records) == 4
    rejected = [n for n, record in enumerate(log) if record.status == 429]
    assert len(rejected) == 2  # the 429s really happened
    for n in rejected:
        later = [r for r in log[n + 1 :] if r.path.startswith("/v1/")]
        assert later and later[0].time - log[n].time >= 1.0  # Retry-After: 1, waited out
    jobs = server.jobs()
    made = Counter((job["model"], job["result"]["seed"]) for job in jobs)
    assert set(made.values()) == {1} and len(made) == 4  # every cell once: no duplicate job
    assert {r.job_id for r in outcome.records} == {job["id"] for job in jobs}


def test_429s_during_a_concurrent_sweep_pause_every_job(tmp_path: Path) -> None:
    with serve_local(api_key=CANARY_KEY, time_scale=0.01, spread=0.2, rate_limit=None) as server:
        with Client(CANARY_KEY, base_url=server.url) as client:
            session = _session(tmp_path, client)
            plan = session.plan(_request("a fox", "steps=1,2,3,4", seeds=(1, 2)))
            server.faults.burst_retry_after = 1

            def limited_once_running(progress: RunProgress) -> None:
                if progress.done >= 1 and not limited:
                    limited.append(True)
                    server.faults.rate_limit_burst = 3

            limited: list[bool] = []
            outcome = session.run(plan, observer=limited_once_running)
        log = list(server.request_log)
    assert outcome.ok and len(outcome.records) == 8
    first = next(record for record in log if record.status == 429)
    # inside the pause only requests already on their way (at most one per job in flight)
    # may arrive; a client that ignored it would poll 8 jobs every few milliseconds
    inside = [r for r in log if first.time < r.time < first.time + 1.0 and r.status != 429]
    assert len(inside) <= 8
    jobs = server.jobs()  # every cell once: one job each, none twice
    assert {r.job_id for r in outcome.records} == {job["id"] for job in jobs} and len(jobs) == 8
    asked = Counter((r.seed, r.input["num_inference_steps"]) for r in outcome.records)
    assert set(asked.values()) == {1} and len(asked) == 8


def test_an_interrupt_mid_sweep_cancels_what_runs_and_keeps_what_finished(tmp_path: Path) -> None:
    # FLUX Schnell takes 1 s here and Dev 2 s: the two Schnell cells finish, then Ctrl-C
    with serve_local(api_key=CANARY_KEY, time_scale=0.2, spread=0.0, rate_limit=None) as server:
        with Client(CANARY_KEY, base_url=server.url) as client:
            session = _session(tmp_path, client)
            plan = session.plan(_request("a fox", f"model={SCHNELL},{DEV}"))
            token = CancelToken()

            def stop_after_two(progress: RunProgress) -> None:
                if progress.done >= 2:
                    token.cancel()

            with pytest.raises(RunInterrupted) as caught:
                session.run(plan, observer=stop_after_two, cancel=token)
        jobs = {job["id"]: job for job in server.jobs()}
    outcome = caught.value.outcome
    assert outcome is not None
    kept = {record.job_id: record.model for record in outcome.records}
    assert set(kept.values()) == {SCHNELL} and len(kept) == 2
    assert all(jobs[job_id]["status"] == "completed" for job_id in kept)
    cancelled = caught.value.report.cancelled
    assert len(cancelled) == 2 and all(jobs[j]["status"] == "cancelled" for j in cancelled)
    assert all(jobs[j]["model"] == DEV for j in cancelled)
    assert JobJournal(tmp_path).pending() == []
    assert {cell.status for cell in outcome.cells() if cell.job.model == DEV} == {"not_run"}


def test_a_rerun_costs_nothing_and_an_added_value_costs_only_its_cells(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session = _session(tmp_path, client)
    session.run(session.plan(_request("a fox", "steps=2,4")))
    assert _posts(local_server) == 4
    again = session.run(session.plan(_request("a fox", "steps=2,4")))
    assert _posts(local_server) == 4 and again.cached == 4
    more = session.plan(_request("a fox", "steps=2,4,6"))
    quote = session.estimate(more)
    assert (quote.cached, quote.jobs) == (4, 2)  # the plan line's figures: 2 new jobs to pay
    grown = session.run(more)
    assert _posts(local_server) == 6 and grown.cached == 4 and len(grown.records) == 6


def test_identical_cells_run_once_and_fill_every_cell(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session = _session(tmp_path, client)
    axis = axis_from_values("setup", [{"model": SCHNELL}, {"model": SCHNELL, "num_images": 1}])
    plan = session.plan(Request("a fox", seeds=(5,), axes=(axis,)))
    outcome = session.run(plan)
    assert _posts(local_server) == 1
    assert len(outcome.by_index) == 2 and outcome.by_index[0] is outcome.by_index[1]
    assert len(outcome.records) == 1 and outcome.credits == outcome.records[0].credits_used
    cells = outcome.cells()
    assert cells[1].same_as == 0 and [row["credits"] is None for row in outcome.rows()] == [
        False,
        True,
    ]


def test_a_refused_submit_keeps_its_error_and_a_notebook_words_it_without_python_advice(
    client: Client, local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = AsyncClient.submit
    calls: list[int] = []

    async def second_refused(self: AsyncClient, model: str, input: Any, **kwargs: Any) -> Job:
        calls.append(1)
        if len(calls) == 2:  # the provider rejects the second job; the first runs on
            raise ProviderError(
                "The provider rejected the request.", status=502, code="provider_error"
            )
        return await real(self, model, input, **kwargs)

    monkeypatch.setattr(AsyncClient, "submit", second_refused)
    session = _session(tmp_path, client)
    outcome = session.run(session.plan(Request("a fox", seeds=(1, 2))))
    (failure,) = outcome.failures
    assert failure.code == "submit" and isinstance(failure.error, ProviderError)
    assert "client.models()" in str(failure.error)  # the client's advice, for Python users...
    worded = notes.failed_job(failure)
    assert "client." not in worded and "`" not in worded  # ...is never shown in a notebook
    assert "%naive models" in worded and "502 provider_error" in worded
    assert "client." not in failure.reason  # the plain account keeps no advice either
    assert len(outcome.records) == 1
