"""Nothing paid is lost, nothing is paid twice (issue 7): the run layer and the magic's generate
and collect paths, over real HTTP against the embedded server and its fault switches."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from naive_nb.client._sync import Client
from naive_nb.client._types import Job
from naive_nb.display.progress import summary_text
from naive_nb.errors import SubmissionOutcomeUnknown
from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook.messages import NaiveUsageError, short_message
from naive_nb.run.cache import RequestCache
from naive_nb.run.events import Summary
from naive_nb.run.journal import LOCAL_BACKEND, JobJournal
from naive_nb.run.plan import PlannedJob
from naive_nb.run.records import sha256_of
from naive_nb.run.store import ResultStore
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell

STORE = Path("naive-results")
MODEL = "fal-ai/flux/schnell"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """Jobs finish within milliseconds: a job a lost reply created is done by the time the
    client finds it in the job list (the case where a job-list item was taken as finished)."""
    with serve_local(api_key=CANARY_KEY, time_scale=0.001, rate_limit=None) as made:
        yield made


@pytest.fixture
def shell(ip: TestingShell, server: LocalServer) -> TestingShell:
    ip.use_client(server)
    return ip


def _posts(server: LocalServer) -> int:
    return sum(1 for r in server.request_log if r.method == "POST")


def _events(job_id: str) -> list[tuple[str, bool]]:
    return [
        (str(e["event"]), bool(e.get("unverified")))
        for e in JobJournal(STORE).entries()
        if e["job_id"] == job_id
    ]


def _request(prompt: str, seed: int, size: str = "square") -> PlannedJob:
    """The request ``%naive PROMPT --seed SEED --size SIZE`` sends (config defaults written)."""
    return PlannedJob(MODEL, {"prompt": prompt, "image_size": size, "num_images": 1, "seed": seed})


def _notices(captured: Any) -> str:
    return "\n".join(str(o.data.get("text/plain", "")) for o in captured.outputs)


# -- 1. a job recovered after a lost reply ----------------------------------------------------
@pytest.mark.parametrize("fault", ["drop_after_create_rate", "error_after_create_rate"])
def test_a_job_found_after_a_lost_reply_is_collected_with_its_images(
    shell: TestingShell, server: LocalServer, fault: str
) -> None:
    setattr(server.faults, fault, 1.0)
    result = shell.run("%naive a cat --seed 1 --size square")
    (job,) = server.jobs()  # found by its idempotency key, not sent twice
    assert job["status"] == "completed" and job["credits_used"] > 0
    assert result.job_ids == [job["id"]] and len(result.images) == 1
    image = result.images[0]
    assert image.path.is_file() and sha256_of(image.path.read_bytes()) == image.sha256
    assert _events(job["id"]) == [("submitted", False), ("collected", False)]
    cached = RequestCache(ResultStore(STORE)).get(_request("a cat", 1).key)
    assert cached is not None and cached.job_id == job["id"] and len(cached.files) == 1


# -- 2. a re-run of a cell whose job is pending -----------------------------------------------
def test_a_rerun_past_the_deadline_waits_for_the_pending_job(ip: TestingShell) -> None:
    with serve_local(api_key=CANARY_KEY, time_scale=0.5, spread=0.0, rate_limit=None) as slow:
        ip.use_client(slow)
        with pytest.raises(NaiveUsageError, match="still running"):
            ip.run("%naive a cat --seed 1 --size square --timeout 1")
        (job,) = slow.jobs()
        ip.run("%config NaiveMagics.progress = 'text'")
        result, captured = ip.capture("%naive a cat --seed 1 --size square")
        assert _posts(slow) == 1  # waited for, not paid again
        assert result.job_ids == [job["id"]] and len(result.images) == 1
        assert "still pending from an earlier run" in captured.stdout
        assert job["id"][:8] in captured.stdout and "--refresh submits anew" in captured.stdout
        assert JobJournal(STORE).pending() == []


def test_a_rerun_after_a_kernel_died_collects_the_journalled_job_and_refresh_pays_anew(
    shell: TestingShell, server: LocalServer
) -> None:
    # what a kernel that died after submitting leaves: a journal line, a job on the server
    planned = _request("orphan", 3, "square_hd")
    job = shell.magics.client.submit(planned.model, planned.input)
    journal = JobJournal(STORE)
    host = server.url.split("//")[1]
    journal.submitted(job.id, planned.model, planned.input, planned.key, host)
    result = shell.run("%naive orphan --seed 3 --size square_hd")
    assert result.job_ids == [job.id] and _posts(server) == 1
    assert journal.pending() == []
    fresh = shell.run("%naive orphan --seed 3 --size square_hd --refresh")
    assert fresh.job_ids != [job.id] and _posts(server) == 2


def test_a_pending_job_of_an_embedded_server_that_died_is_lost_then_submitted(
    ip: TestingShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naive_nb.client import _backend

    monkeypatch.setenv("NAIVE_LOCAL_TIME_SCALE", "0.01")
    monkeypatch.setattr(_backend, "_local", None)  # as in a fresh kernel: a new embedded server
    gone = "22222222-2222-2222-2222-222222222222"  # its old server died with the old kernel
    planned = _request("a fox", 1)
    JobJournal(STORE).submitted(gone, MODEL, planned.input, planned.key, LOCAL_BACKEND)
    try:
        result = ip.run("%naive a fox --seed 1 --size square")
        server = _backend._local
        assert server is not None and _posts(server) == 1
    finally:
        if _backend._local is not None:
            _backend._local.stop()
    assert result.job_ids != [gone] and len(result.images) == 1
    assert _events(gone)[-1] == ("lost", False)


# -- 3. orphans on a server that ignores idempotency keys --------------------------------------
def test_an_orphan_is_journalled_before_anything_else_and_collected_when_it_matches(
    shell: TestingShell, server: LocalServer
) -> None:
    server.faults.idempotency = False
    server.faults.drop_after_create_rate = 1.0
    shell.run("%config NaiveMagics.progress = 'text'")
    result, captured = shell.capture("%naive a cat --seed 2 --size square")
    (job,) = server.jobs()
    assert _posts(server) == 1 and result.job_ids == [job["id"]]
    # journalled as a claim the moment the client named it, then collected as this request's
    assert _events(job["id"]) == [("submitted", True), ("collected", False)]
    assert "a submit got no reply; collected the job it had created" in captured.stdout
    record = result.records[0]
    assert record.request_sent and record.cache_key == _request("a cat", 2).key


def test_a_candidate_that_is_another_requests_job_is_never_stored_as_this_one(
    shell: TestingShell, server: LocalServer
) -> None:
    server.faults.idempotency = False
    # another kernel's finished job: the same prompt and seed, another size
    with Client(CANARY_KEY, base_url=server.url) as other:
        theirs = other.wait(other.submit(MODEL, _request("a cat", 2, "landscape_4_3").input))
    server.faults.drop_after_create_rate = 1.0
    result = shell.run("%naive a cat --seed 2 --size square")
    (ours,) = [j for j in server.jobs() if j["id"] != theirs.id]
    assert result.job_ids == [ours["id"]]
    assert not ResultStore(STORE).job_dir(theirs.id).exists()
    cached = RequestCache(ResultStore(STORE)).get(_request("a cat", 2).key)
    assert cached is not None and cached.job_id == ours["id"]
    assert (cached.files[0].width, cached.files[0].height) == (512, 512)
    if _events(theirs.id):  # named as a candidate (the client may rule it out itself)
        assert _events(theirs.id)[-1] == ("not_ours", False)


def test_resume_checks_a_claim_against_the_jobs_own_record(
    shell: TestingShell, server: LocalServer
) -> None:
    client = shell.magics.client
    ours = client.wait(client.submit(MODEL, _request("a cat", 5).input))
    theirs = client.wait(client.submit(MODEL, _request("a cat", 6).input))
    journal = JobJournal(STORE)
    backend = server.url.split("//")[1]
    for job_id in (ours.id, theirs.id):  # two candidates a lost submit of seed 5 named
        planned = _request("a cat", 5)
        journal.submitted(job_id, MODEL, planned.input, planned.key, backend, verified=False)
    shown = shell.run("%naive resume")
    *results, table = shown.results
    assert [r.job_ids for r in results] == [[ours.id]]
    outcomes = {row[0]: (row[1], row[2]) for row in table.rows}
    assert outcomes[ours.id][0] == "collected"
    assert outcomes[theirs.id][0] == "not ours" and "match no request" in outcomes[theirs.id][1]
    assert not ResultStore(STORE).job_dir(theirs.id).exists()
    assert journal.pending() == []
    cached = RequestCache(ResultStore(STORE)).get(_request("a cat", 5).key)
    assert cached is not None and cached.job_id == ours.id


def test_an_unsettled_submit_is_advised_in_notebook_terms() -> None:
    error = SubmissionOutcomeUnknown("nvnb-key-1", [Job(id="job-a", status="queued")], "no reply")
    text = short_message(error) or ""
    assert "job-a" in text and "%naive resume" in text and "%naive get" in text
    assert "client." not in text and "idempotency" not in text and "nvnb-key-1" not in text


# -- 5. a damaged store ----------------------------------------------------------------------
def _damage(kind: str, result: Any) -> str:
    """Damage the stored copy of ``result``'s one job; returns what the output should say."""
    image = result.images[0].path
    if kind == "checksum":
        image.write_bytes(image.read_bytes()[:-10] + b"0123456789")
        return "the stored copy of seed 4 (job {}) failed its checksum"
    if kind == "file_missing":
        image.unlink()
        return "the stored copy of seed 4 (job {}) is missing a file"
    if kind == "manifest_unreadable":
        (image.parent / "manifest.json").write_text('{"job_id": "garbled')
        return "the stored copy of seed 4 (job {}) has an unreadable manifest"
    shutil.rmtree(image.parent)
    return "the stored copy of seed 4 (job {}) is gone from the store"


@pytest.mark.parametrize("kind", ["checksum", "file_missing", "manifest_unreadable", "gone"])
def test_a_damaged_copy_is_said_and_fetched_again_without_a_new_job(
    shell: TestingShell, server: LocalServer, kind: str
) -> None:
    first = shell.run("%naive a tree --seed 4 --size square")
    said = _damage(kind, first).format(first.job_ids[0][:8])
    with capture_output() as captured:
        again = shell.run("%naive a tree --seed 4 --size square")
    assert said in _notices(captured)
    assert "fetched it again from the server (no new job, no new charge)" in _notices(captured)
    assert _posts(server) == 1 and again.job_ids == first.job_ids
    assert sha256_of(again.images[0].path.read_bytes()) == again.images[0].sha256
    third = shell.run("%naive a tree --seed 4 --size square")  # whole again: from the cache
    assert third.records[0].from_cache and _posts(server) == 1


def test_a_damaged_copy_the_server_no_longer_has_is_said_and_generated_again(
    shell: TestingShell, server: LocalServer
) -> None:
    first = shell.run("%naive a tree --seed 4 --size square")
    _damage("checksum", first)
    with serve_local(api_key=CANARY_KEY, time_scale=0.001, rate_limit=None) as restarted:
        shell.use_client(restarted)  # the job died with the old server
        with capture_output() as captured:
            again = shell.run("%naive a tree --seed 4 --size square")
        assert _posts(restarted) == 1 and again.job_ids != first.job_ids
    notices = _notices(captured)
    assert f"seed 4 (job {first.job_ids[0][:8]}) failed its checksum" in notices
    assert "generated it again (a new job)" in notices


def test_a_deleted_cache_index_costs_nothing(shell: TestingShell, server: LocalServer) -> None:
    first = shell.run("%naive a tree --seeds 1-3 --size square")
    shutil.rmtree(STORE / "_cache")
    again = shell.run("%naive a tree --seeds 1-3 --size square")
    assert _posts(server) == 3
    assert again.job_ids == first.job_ids and all(r.from_cache for r in again.records)
    assert len(list((STORE / "_cache").glob("*.json"))) == 3  # rebuilt from the manifests


def test_offline_names_the_damaged_entry(shell: TestingShell, server: LocalServer) -> None:
    first = shell.run("%naive a tree --seed 4 --size square")
    _damage("checksum", first)
    before = len(server.request_log)
    with pytest.raises(NaiveUsageError) as caught:
        shell.run("%naive a tree --seed 4 --size square --offline")
    text = str(caught.value)
    assert "the stored copy of seed 4" in text and "failed its checksum" in text
    assert first.images[0].path.name in text and "Cache-only" in text
    assert len(server.request_log) == before


# -- 6. a damaged journal ----------------------------------------------------------------------
def test_a_bad_byte_in_the_journal_is_skipped_and_reported(
    shell: TestingShell, server: LocalServer
) -> None:
    client = shell.magics.client
    journal = JobJournal(STORE)
    before = client.submit(MODEL, _request("a cat", 1).input)
    after = client.submit(MODEL, _request("a cat", 2).input)
    journal.submitted(before.id, MODEL, _request("a cat", 1).input, _request("a cat", 1).key)
    with journal.path.open("ab") as handle:
        handle.write(b'{"event": "submitted", "job_id": "\xff\xfe"}\n')
    journal.submitted(after.id, MODEL, _request("a cat", 2).input, _request("a cat", 2).key)

    table = shell.run("%naive jobs")
    assert "1 damaged line" in table.text() and "line 2" in table.text()
    assert before.id in table.text() and after.id in table.text()  # pending, after the bad line
    status = shell.run("%naive status")
    assert dict(status.rows)["jobs not yet collected"] == 2 and "damaged line" in status.text()
    with capture_output() as captured:
        got = shell.run(f"%naive get {after.id}")
    assert got.job_ids == [after.id] and "damaged line" in _notices(captured)
    shown = shell.run("%naive resume")
    assert shown.job_ids == [before.id]
    assert journal.pending() == [] and journal.read().damaged == (2,)


# -- 9. %naive get of a job this store never sent ----------------------------------------------
def test_get_of_a_foreign_job_takes_the_request_from_its_record(
    shell: TestingShell, server: LocalServer
) -> None:
    with Client(CANARY_KEY, base_url=server.url) as other:  # another kernel, the CLI
        job = other.submit(
            MODEL, {"prompt": "a wide view", "seed": 8, "image_size": "landscape_4_3"}
        )
    with capture_output() as captured:
        result = shell.run(f"%naive get {job.id}")
    record = result.records[0]
    assert record.input == {
        "prompt": "a wide view",
        "seed": 8,
        "num_images": 1,
        "image_size": "landscape_4_3",
    }
    assert "landscape_4_3" in result._title() and "square_hd" not in result._title()
    assert record.request_source == "reconstructed" and record.cache_key == ""
    assert "other parameters" in record.unknown
    assert "rebuilt from the server's record" in _notices(captured)
    manifest = json.loads((ResultStore(STORE).job_dir(job.id) / "manifest.json").read_text())
    assert manifest["request_source"] == "reconstructed" and manifest["cache_key"] == ""
    (shown,) = result._repr_mimebundle_()[1]["naive"]["jobs"]  # the notebook's provenance
    assert (
        shown["request_source"] == "reconstructed" and "other parameters" in shown["unknown_input"]
    )
    assert RequestCache(ResultStore(STORE)).entries() == []  # never a cache key for it


# -- summaries -----------------------------------------------------------------------------------
def test_summaries_count_images_and_say_nothing_hollow(
    shell: TestingShell, server: LocalServer
) -> None:
    shell.run("%config NaiveMagics.progress = 'text'")
    shell.run("%naive a tree --seed 1 --num 2 --size square")
    _, captured = shell.capture("%naive a tree --seeds 1-2 --num 2 --size square")
    assert "naive done: 4 images (2 from cache) in" in captured.stdout
    interrupted = Summary(ok=False, seconds=1.0, message="Interrupted: no job was still running.")
    assert "jobs" not in summary_text(interrupted)


def test_a_long_failure_list_says_how_many_more(shell: TestingShell) -> None:
    with pytest.raises(NaiveUsageError) as caught:
        shell.run("%naive a cat [fail] --seeds 1-5 --size square")
    text = str(caught.value)
    assert "5 of 5 jobs failed" in text and "; and 2 more" in text


def test_resume_of_a_cancelled_job_says_so_plainly(ip: TestingShell) -> None:
    with serve_local(api_key=CANARY_KEY, time_scale=1.0, rate_limit=None) as slow:
        ip.use_client(slow)
        job = ip.magics.client.submit(MODEL, _request("slow", 1).input)
        JobJournal(STORE).submitted(job.id, MODEL, _request("slow", 1).input, "k")
        ip.magics.client.cancel(job.id)
        with pytest.raises(NaiveUsageError) as caught:
            ip.run(f"%naive resume {job.id}")
    text = str(caught.value)
    assert text.endswith(f"Job {job.id}: cancelled.") and "-." not in text
