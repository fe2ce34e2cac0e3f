"""The core's runner on the embedded server and on test doubles: journal before polling, cache,
order of a sweep, every job followed at once, stopped by Ctrl-C or a cancel token."""

from __future__ import annotations

import _thread
import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from naive_nb.client import Client, Job, LoopThread, Notice
from naive_nb.errors import Interrupted, JobFailed
from naive_nb.local import LocalServer
from naive_nb.notebook import notes
from naive_nb.run import (
    CacheMiss,
    CancelToken,
    Outcome,
    PlannedJob,
    Request,
    RunInterrupted,
    RunProgress,
    Session,
)
from naive_nb.run.cache import RequestCache
from naive_nb.run.claims import match_claims
from naive_nb.run.journal import JobJournal
from naive_nb.run.keeper import Keeper
from naive_nb.run.store import ResultStore
from tests.conftest import CANARY_KEY
from tests.run.conftest import session_at

MODEL = "fal-ai/flux/schnell"


def _fox(*seeds: int, **params: Any) -> Request:
    return Request("a fox", params={"image_size": "square", **params}, seeds=seeds)


def _posts(server: LocalServer) -> int:
    return sum(1 for r in server.request_log if r.method == "POST")


def test_every_job_is_journaled_before_it_is_polled(client: Client, tmp_path: Path) -> None:
    seen: list[tuple[str, list[str]]] = []

    def observe(run: RunProgress) -> None:
        for job in run.jobs:
            if job.job_id and job.status in ("queued", "processing", "downloading"):
                journaled = [e["job_id"] for e in JobJournal(tmp_path).entries()]
                seen.append((job.job_id, journaled))

    session = session_at(tmp_path, client)
    outcome = session.run(session.plan(_fox(3, 1, 2)), observer=observe)
    assert [r.seed for r in outcome.records] == [3, 1, 2]  # the order asked
    assert seen, "no progress was reported"
    for job_id, journaled in seen:
        assert job_id in journaled
    assert JobJournal(tmp_path).pending() == []
    assert all(f.path.is_file() for r in outcome.records for f in r.files)


def test_a_rerun_mixes_cached_and_new_jobs_in_order(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session = session_at(tmp_path, client)
    session.run(session.plan(_fox(2)))
    posts = _posts(local_server)
    outcome = session.run(session.plan(_fox(1, 2, 3)))
    assert [r.seed for r in outcome.records] == [1, 2, 3]
    assert [r.from_cache for r in outcome.records] == [False, True, False]
    assert outcome.cached == 1
    assert _posts(local_server) == posts + 2


class FakeEngine:
    """An ``AsyncClient`` stand-in: jobs are accepted at once and wait until told otherwise."""

    base_url = "http://fake.test"
    backend = "custom"

    def __init__(self) -> None:
        self.cancel_calls: list[str] = []
        self.waited: list[object] = []
        self.release = asyncio.Event()

    async def models(self, *, refresh: bool = False) -> list[Any]:
        from naive_nb.client import DOCUMENTED_MODELS

        return list(DOCUMENTED_MODELS)

    async def get(self, job_id: str) -> Job:
        return Job(id=job_id, status="processing")

    async def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
        job = Job(id=f"job-{input['seed']}", status="queued", model=model)
        kwargs["on_submitted"](job)
        return job

    async def wait(self, job: Any, **kwargs: Any) -> Job:
        self.waited.append(job)
        await asyncio.Event().wait()  # until the run is stopped
        raise AssertionError("unreachable")

    async def cancel(self, job_id: str, *, at_once: bool = False) -> Job:
        self.cancel_calls.append(job_id)
        return Job(id=job_id, status="cancelled")

    async def download(self, job: Any) -> list[Any]:
        raise AssertionError("nothing completes here")


class FakeClient:
    """The sync side a session needs: the engine, and where it points."""

    def __init__(self, engine: FakeEngine) -> None:
        self.async_client = engine
        self.base_url = engine.base_url
        self.backend = engine.backend

    def close(self) -> None:
        pass


def _interrupt(tmp_path: Path, session: Session, request: Request) -> RunInterrupted:
    plan = session.plan(request)
    try:
        session.run(plan)
    except KeyboardInterrupt as raised:  # a bare one here would also stop pytest itself
        assert isinstance(raised, RunInterrupted)
        return raised
    raise AssertionError("the run was not interrupted")


def test_a_second_interrupt_during_the_cancels_still_cancels_and_journals_each_job(
    tmp_path: Path,
) -> None:
    class Slow(FakeEngine):
        async def wait(self, job: Any, **kwargs: Any) -> Job:
            self.waited.append(job)
            if len(self.waited) == 3:  # every job is waited for: Ctrl-C
                _thread.interrupt_main()
            return await super().wait(job, **kwargs)

        async def cancel(self, job_id: str, *, at_once: bool = False) -> Job:
            self.cancel_calls.append(job_id)
            if job_id == "job-1":
                _thread.interrupt_main()  # Ctrl-C again while the DELETEs are in flight
            await asyncio.sleep(0.2)
            if job_id == "job-2":
                raise ConnectionError("the server went away")
            return Job(id=job_id, status="cancelled")

    engine = Slow()
    interrupt = _interrupt(tmp_path, session_at(tmp_path, FakeClient(engine)), _fox(1, 2, 3))
    report = interrupt.report
    assert sorted(engine.cancel_calls) == ["job-1", "job-2", "job-3"]  # each once, all of them
    assert report.cancelled == ("job-1", "job-3")
    # issue 10: the error itself is kept (the notebook words it), not its text
    ((failed_id, why),) = report.cancel_failed
    assert failed_id == "job-2" and isinstance(why, ConnectionError)
    assert str(why) == "the server went away"
    message = notes.interrupted(report)
    assert "cancelled job job-1, job-3 on the server" in message
    assert "Could not cancel job-2 (the server went away)" in message
    assert "%naive cancel JOB_ID" in message
    journal = JobJournal(tmp_path)
    events = {(e["job_id"], e["event"]) for e in journal.entries()}
    assert {("job-1", "cancelled"), ("job-3", "cancelled")} <= events
    assert [p.job_id for p in journal.pending()] == ["job-2"]  # not confirmed: still listed


def test_ctrl_c_right_after_a_job_is_journalled_cancels_it(tmp_path: Path) -> None:
    # the interrupt lands just after the submit of the first job returned (its id journalled,
    # the submit's reply not yet in the run's hands): that job must be cancelled too, not left
    # running and charged while the cell says "no job was still running"
    class Cut(FakeEngine):
        async def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
            job = await super().submit(model, input, **kwargs)
            _thread.interrupt_main()
            await asyncio.sleep(0.5)  # the interrupt arrives before the submit returns
            return job

    engine = Cut()
    interrupt = _interrupt(tmp_path, session_at(tmp_path, FakeClient(engine)), _fox(1, 2))
    assert engine.cancel_calls == ["job-1"]
    assert interrupt.report.cancelled == ("job-1",)
    assert "no job was still running" not in notes.interrupted(interrupt.report)
    assert JobJournal(tmp_path).pending() == []


def test_every_job_is_waited_for_at_once_as_the_accepted_job(tmp_path: Path) -> None:
    # each wait returns only once every job of the sweep is being waited for: a runner that
    # waited for one job after another would never get past the first
    class Together(FakeEngine):
        async def wait(self, job: Any, **kwargs: Any) -> Job:
            self.waited.append(job)
            if len(self.waited) == 3:
                self.release.set()
            await asyncio.wait_for(self.release.wait(), 30)
            raise JobFailed(job.id, "no luck")

    engine = Together()
    session = session_at(tmp_path, FakeClient(engine))
    outcome = session.run(session.plan(_fox(1, 2, 3)))
    assert sorted(getattr(job, "id", job) for job in engine.waited) == ["job-1", "job-2", "job-3"]
    assert all(isinstance(job, Job) for job in engine.waited)
    assert [f.code for f in outcome.failures] == ["failed"] * 3
    assert [f.job_id for f in outcome.failures] == ["job-1", "job-2", "job-3"]  # plan order


def test_a_notice_shows_on_the_current_state_until_the_next_status(tmp_path: Path) -> None:
    states: list[RunProgress] = []

    class Paused(FakeEngine):
        async def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
            kwargs["on_notice"](Notice("rate_limited", 61.0, "rate limited, resuming in 61 s"))
            return await super().submit(model, input, **kwargs)

        async def wait(self, job: Any, **kwargs: Any) -> Job:
            kwargs["on_notice"](Notice("retrying", 2.0, "status 503, retrying in 2 s", job.id))
            kwargs["on_update"](Job(id=job.id, status="processing", progress=40.0))
            raise JobFailed(job.id, "no luck")

    session = session_at(tmp_path, FakeClient(Paused()))
    session.run(session.plan(_fox(1)), observer=states.append)
    shown = [(s.jobs[0].status, s.notice) for s in states]
    assert shown[:5] == [
        ("submitting", None),
        ("submitting", "rate limited, resuming in 61 s"),
        ("queued", None),  # the accepted job: the notice is over
        ("queued", "status 503, retrying in 2 s"),
        ("processing", None),
    ]
    assert states[3].jobs[0].job_id == "job-1"


def test_an_interrupted_submit_keeps_the_clients_account(tmp_path: Path) -> None:
    account = Interrupted("the client's words", outcome="cancelled", job_id="j-9")
    token = CancelToken()

    class Cut(FakeEngine):
        async def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
            if input["seed"] == 2:
                token.cancel()  # Ctrl-C while this submit is under way
                try:
                    await asyncio.sleep(30)
                except asyncio.CancelledError:  # the client cancels it and says so
                    raise asyncio.CancelledError(account) from None
            return await super().submit(model, input, **kwargs)

    engine = Cut()
    session = session_at(tmp_path, FakeClient(engine))
    with pytest.raises(RunInterrupted) as caught:
        session.run(session.plan(_fox(1, 2)), cancel=token)
    message = notes.interrupted(caught.value.report)
    # the job accepted before is cancelled by the runner; the interrupted one by the client
    assert engine.cancel_calls == ["job-1"]
    assert "cancelled job job-1 on the server" in message
    assert "Job j-9 (created by the interrupted submit) was cancelled" in message
    assert message.count("Interrupted") == 1
    assert "%naive get j-9 shows its final state" in message and "client." not in message
    events = [(e["job_id"], e["event"]) for e in JobJournal(tmp_path).entries()]
    assert ("j-9", "submitted") in events and ("j-9", "cancelled") in events
    assert JobJournal(tmp_path).pending() == []


def test_a_cancel_token_stops_a_started_run_on_the_server(tmp_path: Path) -> None:
    from naive_nb.local import serve_local

    with (
        serve_local(api_key=CANARY_KEY, time_scale=1.0, spread=0.0, rate_limit=None) as slow,
        Client(CANARY_KEY, base_url=slow.url) as client,
    ):
        session = session_at(tmp_path, client)
        seen: list[RunProgress] = []
        handle = session.start(session.plan(_fox(1, 2, 3, 4)), observer=seen.append)
        while not any(all(j.job_id and j.status != "submitting" for j in s.jobs) for s in seen):
            assert not handle.done()
            asyncio.run(asyncio.sleep(0.02))
        assert not handle.done()  # returned at once, still running
        handle.cancel()
        outcome = handle.result(timeout=60)
        statuses = sorted(job["status"] for job in slow.jobs())
    assert isinstance(outcome, Outcome) and outcome.interrupted is not None
    report = outcome.interrupted
    # the run cancels what it waits for; a submit still under way is cancelled by the client,
    # which says so (report.submit)
    by_client = {report.submit.job_id} if report.submit is not None else set()
    assert len(set(report.cancelled) | by_client) == 4 and statuses == ["cancelled"] * 4
    assert JobJournal(tmp_path).pending() == []
    # the progress was the whole run's: all four accepted at once, none done
    assert max(s.count("queued", "processing") for s in seen) == 4
    assert all(s.done == 0 for s in seen)


def test_a_started_run_can_be_awaited(client: Client, tmp_path: Path) -> None:
    session = session_at(tmp_path, client)
    handle = session.start(session.plan(_fox(5, 6)))

    async def wait() -> Outcome:
        return await handle

    outcome = asyncio.run(wait())
    assert handle.done() and [r.seed for r in outcome.records] == [5, 6]


def test_the_journal_records_the_backend_of_each_job(client: Client, tmp_path: Path) -> None:
    session = session_at(tmp_path, client)
    session.run(session.plan(_fox(1)))
    submitted = [e for e in JobJournal(tmp_path).entries() if e["event"] == "submitted"]
    assert submitted[0]["backend"] == urlsplit(client.base_url).netloc


def test_requests_without_a_seed_are_never_cached(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    # Recraft v3 takes no seed: each request draws a new image, so a re-run must run again
    session = session_at(tmp_path, client)
    request = Request("a fox", model="fal-ai/recraft-v3", params={"image_size": "square"})
    first = session.run(session.plan(request))
    second = session.run(session.plan(request))
    assert [r.from_cache for r in second.records] == [False]
    assert second.records[0].job_id != first.records[0].job_id
    assert _posts(local_server) == 2
    assert RequestCache(session.store).entries() == []
    # the file is named by the seed the server reported, and the record knows that seed
    image = second.records[0].files[0]
    assert (
        image.seed is not None and image.path.name == f"1-seed{image.seed}.{image.path.suffix[1:]}"
    )
    cache_only = session_at(tmp_path, client, cache_only=True)
    with pytest.raises(CacheMiss, match="takes no seed"):
        cache_only.run(cache_only.plan(request))


def test_notice_is_public() -> None:
    import naive_nb

    assert "Notice" in naive_nb.__all__ and naive_nb.Notice is Notice


@pytest.mark.parametrize(
    ("outcome", "job_id", "phrase"),
    [
        ("cancelled", "j-1", "%naive get j-1 shows its final state"),
        ("already_finished", "j-1", "collect it with %naive get j-1"),
        ("cancel_failed", "j-1", "Retry %naive cancel j-1"),
        ("not_sent", None, "no job was created"),
        ("not_created", None, "none was created"),
        ("unknown", None, "could not tell whether a job was created"),
    ],
)
def test_every_interrupted_submit_outcome_is_worded_for_a_notebook(
    outcome: str, job_id: str | None, phrase: str
) -> None:
    interrupt = Interrupted("client words", outcome=outcome, job_id=job_id, idempotency_key="k-1")
    text = notes.submit_account(interrupt)
    assert phrase in text
    assert "client." not in text  # the notebook's own commands, not the Python API's
    assert "idempotency" not in text  # a key the magic cannot pass is no advice


def test_a_completed_job_without_images_is_never_stored_cached_or_closed(
    client: Client, local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = session_at(tmp_path, client)
    plan = session.plan(_fox(1))

    async def no_images(job: Any) -> list[Any]:
        return []  # the server names no image for the completed job (a broken reply)

    with monkeypatch.context() as patched:
        patched.setattr(client.async_client, "download", no_images)
        empty = session.run(plan)
    assert empty.records == []
    (failure,) = empty.failures
    assert failure.code == "no_images" and failure.still_running and failure.job_id
    assert f"%naive resume {failure.job_id}" in notes.failed_job(failure)
    assert not session.store.job_dir(failure.job_id).exists()
    assert RequestCache(session.store).get(plan.jobs[0].key) is None
    assert [p.job_id for p in JobJournal(tmp_path).pending()] == [failure.job_id]
    # the same request again: its pending job is collected, not paid for a second time
    again = session.run(session.plan(_fox(1)))
    assert [r.job_id for r in again.records] == [failure.job_id]
    assert [(a.job_id, a.reason) for a in again.adopted] == [(failure.job_id, "pending")]
    assert _posts(local_server) == 1
    assert JobJournal(tmp_path).pending() == []


def test_a_claim_its_record_cannot_tell_apart_is_stored_unverified_and_never_cached(
    client: Client, tmp_path: Path
) -> None:
    store = ResultStore(tmp_path)
    base = {"prompt": "a fox", "image_size": "square", "num_images": 1, "seed": 5}
    steps2 = PlannedJob(MODEL, {**base, "num_inference_steps": 2})
    steps4 = PlannedJob(MODEL, {**base, "num_inference_steps": 4})
    other_seed = PlannedJob(MODEL, {**base, "seed": 6})
    job = client.wait(client.submit(steps2.model, steps2.input))
    journal = JobJournal(tmp_path)
    for claim in (steps2, steps4, other_seed):  # a lost submit of each named this job
        journal.submitted(job.id, claim.model, claim.input, claim.key, "h", verified=False)
    (entry,) = journal.pending()
    # the record reports the prompt, seed, count and size, not the steps: two requests fit
    matches, checked = match_claims(entry.requests, job)
    assert checked and [m.cache_key for m in matches] == [steps2.key, steps4.key]
    keeper = Keeper(client.async_client, store, RequestCache(store), journal)
    kept = asyncio.run_coroutine_threadsafe(keeper.keep_claimed(entry, job), LoopThread.get().loop)
    record = kept.result(timeout=30)
    assert record is not None and record.request_source == "unverified"
    assert record.cache_key == "" and len(record.files) == 1
    assert all(RequestCache(store).get(c.key) is None for c in (steps2, steps4, other_seed))
    assert journal.pending() == []
