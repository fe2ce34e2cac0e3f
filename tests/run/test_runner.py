"""The runner on the embedded server: journal before polling, cache, order of a sweep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from naive_nb.client._sync import Client
from naive_nb.client._types import Job, Notice
from naive_nb.errors import JobFailed
from naive_nb.local import LocalServer
from naive_nb.run import runner as runner_module
from naive_nb.run.cache import CacheMiss, RequestCache
from naive_nb.run.events import ProgressState
from naive_nb.run.journal import JobJournal
from naive_nb.run.runner import PlannedJob, RunInterrupted, Runner, match_claims, plan
from naive_nb.run.store import ResultStore
from tests.conftest import CANARY_KEY


@pytest.fixture
def client(local_server: LocalServer) -> Iterator[Client]:
    with Client(CANARY_KEY, base_url=local_server.url) as made:
        yield made


def test_every_job_is_journaled_before_it_is_polled(client: Client, tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    seen: list[tuple[str, list[str]]] = []

    def on_progress(state: ProgressState) -> None:
        if state.job_id and state.status in ("queued", "processing", "completed"):
            journaled = [e["job_id"] for e in JobJournal(tmp_path).entries()]
            seen.append((state.job_id, journaled))

    runner = Runner(client, store, on_progress=on_progress)
    jobs = plan("fal-ai/flux/schnell", {"prompt": "a fox", "image_size": "square"}, [3, 1, 2])
    outcome = runner.run(jobs)
    assert [r.seed for r in outcome.records] == [3, 1, 2]  # the order asked
    assert seen, "no progress was reported"
    for job_id, journaled in seen:
        assert job_id in journaled
    assert JobJournal(tmp_path).pending() == []
    assert all(f.path.is_file() for r in outcome.records for f in r.files)


def test_a_rerun_mixes_cached_and_new_jobs_in_order(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    store = ResultStore(tmp_path)
    base = {"prompt": "a fox", "image_size": "square"}
    Runner(client, store).run(plan("fal-ai/flux/schnell", base, [2]))
    posts = sum(1 for r in local_server.request_log if r.method == "POST")
    outcome = Runner(client, store).run(plan("fal-ai/flux/schnell", base, [1, 2, 3]))
    assert [r.seed for r in outcome.records] == [1, 2, 3]
    assert [r.from_cache for r in outcome.records] == [False, True, False]
    assert outcome.cached == 1
    assert sum(1 for r in local_server.request_log if r.method == "POST") == posts + 2


class _InterruptedClient:
    """A client whose wait is interrupted (Ctrl-C), and whose cancels are interrupted too."""

    base_url = "http://fake.test"

    def __init__(self, interrupts_per_cancel: dict[str, int]) -> None:
        self.interrupts = dict(interrupts_per_cancel)
        self.cancel_calls: list[str] = []
        self.waited: list[object] = []

    def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
        job = Job(id=f"job-{input['seed']}", status="queued", model=model)
        kwargs["on_submitted"](job)
        return job

    def wait(self, job: Any, **kwargs: Any) -> Job:
        self.waited.append(job)
        raise KeyboardInterrupt

    def cancel(self, job_id: str) -> Job:
        self.cancel_calls.append(job_id)
        if self.interrupts.get(job_id, 0) > 0:
            self.interrupts[job_id] -= 1
            raise KeyboardInterrupt  # Ctrl-C pressed again while the DELETE is in flight
        return Job(id=job_id, status="cancelled")

    def download(self, job: Any) -> list[Any]:
        raise AssertionError("nothing completes here")


def test_a_second_interrupt_during_the_cancels_still_cancels_and_journals_each_job(
    tmp_path: Path,
) -> None:
    # job-1: one extra Ctrl-C during its DELETE (retried); job-2: Ctrl-C on every try
    client = _InterruptedClient({"job-1": 1, "job-2": 5})
    runner = Runner(client, ResultStore(tmp_path))
    jobs = plan("fal-ai/flux/schnell", {"prompt": "a fox"}, [1, 2, 3])
    interrupt: BaseException | None = None
    try:
        runner.run(jobs)
    except KeyboardInterrupt as raised:  # a bare one here would also stop pytest itself
        interrupt = raised
    assert isinstance(interrupt, RunInterrupted)
    message = str(interrupt)
    assert client.cancel_calls == ["job-1", "job-1", "job-2", "job-2", "job-3"]
    assert "cancelled job job-1, job-3 on the server" in message
    assert "Could not cancel job-2 (interrupted again before the server answered)" in message
    assert "%naive cancel JOB_ID" in message
    journal = JobJournal(tmp_path)
    events = {(e["job_id"], e["event"]) for e in journal.entries()}
    assert {("job-1", "cancelled"), ("job-3", "cancelled")} <= events
    assert [p.job_id for p in journal.pending()] == ["job-2"]  # not confirmed: still listed


def test_every_job_is_waited_for_as_the_accepted_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a sweep: the clock moves a minute per reading, so each job was accepted long before its
    # wait; the Job (not its id) still goes to the client, which paces its first look from
    # the job's own acceptance (`accepted_at`) and so looks at once at a job that is due
    clock = iter(range(0, 10_000, 60))
    monkeypatch.setattr(runner_module, "time", SimpleNamespace(monotonic=lambda: next(clock)))

    class Sweep(_InterruptedClient):
        def wait(self, job: Any, **kwargs: Any) -> Job:
            self.waited.append(job)
            if len(self.waited) < 3:
                raise JobFailed(job.id, "no luck")
            raise KeyboardInterrupt

    client = Sweep({})
    with pytest.raises(RunInterrupted):
        Runner(client, ResultStore(tmp_path)).run(
            plan("fal-ai/flux/schnell", {"prompt": "x"}, [1, 2, 3])
        )
    assert [getattr(job, "id", job) for job in client.waited] == ["job-1", "job-2", "job-3"]
    assert all(isinstance(job, Job) for job in client.waited)


def test_a_notice_shows_on_the_current_state_until_the_next_status(tmp_path: Path) -> None:
    states: list[ProgressState] = []

    class Paused(_InterruptedClient):
        def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
            kwargs["on_notice"](Notice("rate_limited", 61.0, "rate limited, resuming in 61 s"))
            return super().submit(model, input, **kwargs)

        def wait(self, job: Any, **kwargs: Any) -> Job:
            kwargs["on_notice"](Notice("retrying", 2.0, "status 503, retrying in 2 s", job.id))
            kwargs["on_update"](Job(id=job.id, status="processing", progress=40.0))
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        Runner(Paused({}), ResultStore(tmp_path), on_progress=states.append).run(
            plan("fal-ai/flux/schnell", {"prompt": "x"}, [1])
        )
    shown = [(s.status, s.notice) for s in states]
    assert shown == [
        ("submitting", None),
        ("submitting", "rate limited, resuming in 61 s"),
        ("queued", None),  # the accepted job: the notice is over
        ("queued", "status 503, retrying in 2 s"),
        ("processing", None),
    ]
    assert states[3].job_id == "job-1"


def test_an_interrupted_submit_keeps_the_clients_account(tmp_path: Path) -> None:
    from naive_nb.errors import Interrupted

    account = Interrupted("the client's words", outcome="cancelled", job_id="j-9")

    class Cut(_InterruptedClient):
        def submit(self, model: str, input: Any, **kwargs: Any) -> Job:
            if input["seed"] == 2:
                raise account
            return super().submit(model, input, **kwargs)

    client = Cut({})
    with pytest.raises(RunInterrupted) as caught:
        Runner(client, ResultStore(tmp_path)).run(
            plan("fal-ai/flux/schnell", {"prompt": "x"}, [1, 2])
        )
    message = str(caught.value)
    # the job accepted before is cancelled by the runner; the interrupted one by the client
    assert client.cancel_calls == ["job-1"]
    assert "cancelled job job-1 on the server" in message
    assert "Job j-9 (created by the interrupted submit) was cancelled" in message
    assert message.count("Interrupted") == 1
    assert "%naive get j-9 shows its final state" in message and "client." not in message
    events = [(e["job_id"], e["event"]) for e in JobJournal(tmp_path).entries()]
    assert ("j-9", "submitted") in events and ("j-9", "cancelled") in events
    assert JobJournal(tmp_path).pending() == []


def test_the_journal_records_the_backend_of_each_job(client: Client, tmp_path: Path) -> None:
    jobs = plan("fal-ai/flux/schnell", {"prompt": "a fox", "image_size": "square"}, [1])
    Runner(client, ResultStore(tmp_path)).run(jobs)
    submitted = [e for e in JobJournal(tmp_path).entries() if e["event"] == "submitted"]
    assert submitted[0]["backend"] == urlsplit(client.base_url).netloc


def test_requests_without_a_seed_are_never_cached(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    # Recraft v3 takes no seed: each request draws a new image, so a re-run must run again
    store = ResultStore(tmp_path)
    jobs = plan("fal-ai/recraft-v3", {"prompt": "a fox", "image_size": "square"}, [None])
    first = Runner(client, store).run(jobs)
    second = Runner(client, store).run(jobs)
    assert [r.from_cache for r in second.records] == [False]
    assert second.records[0].job_id != first.records[0].job_id
    assert sum(1 for r in local_server.request_log if r.method == "POST") == 2
    assert RequestCache(store).entries() == []
    # the file is named by the seed the server reported, and the record knows that seed
    image = second.records[0].files[0]
    assert (
        image.seed is not None and image.path.name == f"1-seed{image.seed}.{image.path.suffix[1:]}"
    )
    with pytest.raises(CacheMiss, match="takes no seed"):
        Runner(client, store, offline=True).cached(jobs)


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
    from naive_nb.errors import Interrupted
    from naive_nb.run.runner import interrupted_account

    interrupt = Interrupted("client words", outcome=outcome, job_id=job_id, idempotency_key="k-1")
    text = interrupted_account(interrupt)
    assert phrase in text
    assert "client." not in text  # the notebook's own commands, not the Python API's
    assert "idempotency" not in text  # a key the magic cannot pass is no advice


def test_a_completed_job_without_images_is_never_stored_cached_or_closed(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    store = ResultStore(tmp_path)
    jobs = plan("fal-ai/flux/schnell", {"prompt": "a fox", "image_size": "square"}, [1])
    # the server names no image for the completed job (as a job-list item, or a broken reply)
    empty = Runner(client, store, downloader=lambda job: []).run(jobs)
    assert empty.records == []
    (failure,) = empty.failures
    assert failure.code == "no_images" and failure.still_running and failure.job_id
    assert f"%naive resume {failure.job_id}" in failure.message
    assert not store.job_dir(failure.job_id).exists()
    assert RequestCache(store).get(jobs[0].key) is None
    assert [p.job_id for p in JobJournal(tmp_path).pending()] == [failure.job_id]
    # the same request again: its pending job is collected, not paid for a second time
    again = Runner(client, store).run(jobs)
    assert [r.job_id for r in again.records] == [failure.job_id]
    assert [(a.job_id, a.reason) for a in again.adopted] == [(failure.job_id, "pending")]
    assert sum(1 for r in local_server.request_log if r.method == "POST") == 1
    assert JobJournal(tmp_path).pending() == []


def test_a_claim_its_record_cannot_tell_apart_is_stored_unverified_and_never_cached(
    client: Client, tmp_path: Path
) -> None:
    store = ResultStore(tmp_path)
    base = {"prompt": "a fox", "image_size": "square", "num_images": 1, "seed": 5}
    steps2 = PlannedJob("fal-ai/flux/schnell", {**base, "num_inference_steps": 2})
    steps4 = PlannedJob("fal-ai/flux/schnell", {**base, "num_inference_steps": 4})
    other_seed = PlannedJob("fal-ai/flux/schnell", {**base, "seed": 6})
    job = client.wait(client.submit(steps2.model, steps2.input))
    journal = JobJournal(tmp_path)
    for claim in (steps2, steps4, other_seed):  # a lost submit of each named this job
        journal.submitted(job.id, claim.model, claim.input, claim.key, "h", verified=False)
    (entry,) = journal.pending()
    # the record reports the prompt, seed, count and size, not the steps: two requests fit
    matches, checked = match_claims(entry.requests, job)
    assert checked and [m.cache_key for m in matches] == [steps2.key, steps4.key]
    record = Runner(client, store).keep_claimed(entry, job)
    assert record is not None and record.request_source == "unverified"
    assert record.cache_key == "" and len(record.files) == 1
    assert all(RequestCache(store).get(c.key) is None for c in (steps2, steps4, other_seed))
    assert journal.pending() == []
