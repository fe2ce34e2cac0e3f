"""%naive models / price / jobs / get / cancel / resume / status / login / help, and progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from naive_nb.display.result import NaiveResult
from naive_nb.display.table import Table
from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook.messages import NaiveUsageError
from naive_nb.run.journal import LOCAL_BACKEND, JobJournal
from naive_nb.run.plan import PlannedJob
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    with serve_local(api_key=CANARY_KEY, time_scale=1.0, spread=0.0, rate_limit=None) as server:
        yield server


def test_models_table(online: TestingShell) -> None:
    table = online.run("%naive models")
    assert isinstance(table, Table)
    text = table._repr_mimebundle_()["text/plain"]
    assert "fal-ai/flux/schnell (default)" in text
    assert "text-to-image" in text and "num_inference_steps" in text


def test_price_for_exactly_the_options_given(online: TestingShell) -> None:
    table = online.run("%naive price --model fal-ai/flux/dev -n 2 --seeds 1-3")
    model, jobs, per_job, credits, usd = table.rows[0]
    assert (model, jobs, per_job) == ("fal-ai/flux/dev", 3, 2)
    one = online.magics.client.pricing("fal-ai/flux/dev", 2)
    assert float(credits) == pytest.approx(one.estimated_credits * 3)
    assert usd.startswith("$")


def test_jobs_lists_remote_jobs_and_pending_ones(
    online: TestingShell, local_server: LocalServer
) -> None:
    online.run("%naive a cat --seed 1 --size square")
    table = online.run("%naive jobs --status completed --limit 5")
    assert [row[0] for row in table.rows] == [local_server.jobs()[0]["id"]]
    JobJournal("naive-results").submitted("lost-job", "fal-ai/flux/schnell", {"prompt": "x"}, "k")
    table = online.run("%naive jobs")
    assert "lost-job" in table.text() and "%naive resume" in table.text()


def test_get_shows_a_stored_job_and_fetches_an_unknown_one(
    online: TestingShell, local_server: LocalServer
) -> None:
    first = online.run("%naive a cat --seed 1 --size square")
    again = online.run(f"%naive get {first.job_ids[0]} -o fetched")
    assert again.images[0].sha256 == first.images[0].sha256
    assert online.ns["fetched"] is again
    # a job made elsewhere (another kernel, the CLI): fetched, stored, shown
    client = online.magics.client
    job = client.submit("fal-ai/flux/schnell", {"prompt": "made elsewhere", "seed": 9})
    result = online.run(f"%naive get {job.id}")
    assert isinstance(result, NaiveResult)
    # the request as the server's record reports it (never sent from here: not cached)
    assert result.records[0].input == {
        "prompt": "made elsewhere",
        "seed": 9,
        "num_images": 1,
        "image_size": "square_hd",
    }
    assert result.records[0].request_source == "reconstructed"
    assert result.images[0].path.is_file()


def test_get_of_an_unknown_id_is_a_short_error(online: TestingShell) -> None:
    from naive_nb.notebook.messages import NaiveUsageError

    with pytest.raises(NaiveUsageError, match="404"):
        online.run("%naive get 00000000-0000-0000-0000-000000000000")


def test_cancel_a_running_job_and_a_finished_one(
    ip: TestingShell, slow_server: LocalServer
) -> None:
    ip.use_client(slow_server)
    job = ip.magics.client.submit("fal-ai/flux/schnell", {"prompt": "slow", "seed": 1})
    table = ip.run(f"%naive cancel {job.id}")
    assert table.rows == [(job.id, "cancelled")]
    assert "Cancelled" in table.notes[0]
    again = ip.run(f"%naive cancel {job.id}")
    assert "already finished" in again.notes[0]


def test_resume_collects_what_a_crashed_kernel_left(
    online: TestingShell, local_server: LocalServer
) -> None:
    # what a kernel that died after submitting leaves behind: a journal line, a job on the server
    data = {"prompt": "orphan", "seed": 3, "num_images": 1, "image_size": "square_hd"}
    planned = PlannedJob("fal-ai/flux/schnell", data)
    job = online.magics.client.submit(planned.model, planned.input)
    JobJournal("naive-results").submitted(job.id, planned.model, planned.input, planned.key)
    result = online.run("%naive resume")
    assert result.job_ids == [job.id]
    assert JobJournal("naive-results").pending() == []
    # collected into the cache too: the same request now costs nothing
    before = len(local_server.request_log)
    cached = online.run("%naive orphan --seed 3 --num 1 --size square_hd")
    assert len(local_server.request_log) == before
    assert cached.job_ids == [job.id]


def test_resume_with_nothing_pending(online: TestingShell) -> None:
    _, captured = online.capture("%naive resume")
    assert "Nothing to resume" in captured.stdout


def test_status_shows_whether_a_key_is_set_never_the_key(online: TestingShell) -> None:
    table = online.run("%naive status")
    text = table.text() + table.html()
    assert CANARY_KEY not in text
    facts = dict(table.rows)
    assert facts["API key set"] == "yes"
    assert "credits" in str(facts["balance"])
    assert str(facts["store"]).endswith("naive-results")
    assert facts["naive-nb version"]


def test_login_asks_with_getpass_and_keeps_the_key_out_of_everything(
    ip: TestingShell, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAIVE_BASE_URL", local_server.url)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": CANARY_KEY)
    _, captured = ip.capture("%naive login")
    assert "Logged in" in captured.stdout and CANARY_KEY not in captured.stdout
    assert CANARY_KEY not in repr(ip.magics.client)
    table = ip.run("%naive status")
    assert dict(table.rows)["API key set"] == "yes"
    history = "\n".join(source for _, _, source in ip.shell.history_manager.get_range())
    assert CANARY_KEY not in history


def test_login_with_a_refused_key_keeps_the_previous_state(
    ip: TestingShell, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naive_nb.notebook.messages import NaiveUsageError

    monkeypatch.setenv("NAIVE_BASE_URL", local_server.url)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "nv_sk_live_BAD")
    with pytest.raises(NaiveUsageError, match="401"):
        ip.run("%naive login")
    assert ip.magics._api_key is None


def test_help(ip: TestingShell) -> None:
    _, captured = ip.capture("%naive help")
    assert "%naive PROMPT" in captured.stdout and "%naive login" in captured.stdout


def test_html_progress_updates_one_display_and_ends_in_the_summary(online: TestingShell) -> None:
    online.run("%config NaiveMagics.progress = 'html'")
    _, captured = online.capture("%naive a cat --seeds 1-2 --size square")
    progress = [o for o in captured.outputs if "image/jpeg" not in o.data]
    assert progress, "the progress display was never shown"
    final = progress[-1].data
    assert set(final) == {"text/plain", "text/html"}
    assert final["text/plain"].startswith("naive done: 2 images")
    assert "#1a7f37" in final["text/html"]  # green


def test_text_progress_is_one_rewritten_line_ending_in_the_summary(online: TestingShell) -> None:
    online.run("%config NaiveMagics.progress = 'text'")
    _, captured = online.capture("%naive a cat --seed 1 --size square")
    assert captured.stdout.count("\n") >= 1
    lines = captured.stdout.split("\n")
    assert lines[0].split("\r")[-1].startswith("naive done: 1 image")
    assert "\rnaive [" in captured.stdout


def test_failed_run_progress_ends_red(online: TestingShell) -> None:
    from naive_nb.notebook.messages import NaiveUsageError

    online.run("%config NaiveMagics.progress = 'html'")
    with pytest.raises(NaiveUsageError):
        online.capture("%naive a cat [fail] --seed 2")


def test_widget_progress_is_replaced_by_the_summary(online: TestingShell) -> None:
    online.run("%config NaiveMagics.progress = 'widget'")
    _, captured = online.capture("%naive a cat --seed 3 --size square")
    final = captured.outputs[-1].data
    assert set(final) == {"text/plain", "text/html"}
    assert final["text/plain"].startswith("naive done: 1 image")


def test_auto_progress_picks_by_frontend() -> None:
    from naive_nb.notebook.progress import detect_mode

    class Kernel:
        def __init__(self, metadata: dict[str, str]) -> None:
            self.metadata = metadata

        def get_parent(self) -> dict[str, object]:
            return {"metadata": self.metadata}

    class Shell:
        def __init__(self, kernel: Kernel) -> None:
            self.kernel = kernel

    assert detect_mode(None) == "text"
    assert detect_mode(object()) == "text"  # a terminal shell has no kernel
    assert detect_mode(Shell(Kernel({}))) == "html"  # nbclient, papermill
    assert detect_mode(Shell(Kernel({"cellId": "abc"}))) == "widget"  # JupyterLab


def test_loadable_from_ipython_config(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "ipython_config.py").write_text(
        'c.InteractiveShellApp.extensions = ["naive_nb"]\nc.NaiveMagics.model = "fal-ai/flux/dev"\n'
    )
    code = (
        "shell = get_ipython(); "
        "print(shell.find_magic('naive') is not None, "
        "[m.model for m in shell.configurables if type(m).__name__ == 'NaiveMagics'])"
    )
    out = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", f"--profile-dir={tmp_path}", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "True ['fal-ai/flux/dev']" in out.stdout


def test_resume_goes_on_past_dead_jobs_and_closes_them_in_the_journal(
    online: TestingShell, local_server: LocalServer
) -> None:
    client = online.magics.client
    journal = JobJournal("naive-results")
    here = urlsplit(local_server.url).netloc

    def journalled(prompt: str, seed: int) -> str:
        planned = PlannedJob("fal-ai/flux/schnell", {"prompt": prompt, "seed": seed})
        job = client.submit(planned.model, planned.input)
        journal.submitted(job.id, planned.model, planned.input, planned.key, here)
        return job.id

    failed = journalled("a fox [fail]", 1)  # the embedded server fails it
    local_server.config.time_scale = 1000.0  # this one runs until it is cancelled
    cancelled = journalled("a fox", 2)
    local_server.config.time_scale = 0.01
    assert client.cancel(cancelled).status == "cancelled"
    lost = "00000000-0000-0000-0000-000000000000"  # e.g. a server restarted since: 404
    journal.submitted(lost, "fal-ai/flux/schnell", {"prompt": "gone", "seed": 3}, "k", here)
    elsewhere = "11111111-1111-1111-1111-111111111111"
    journal.submitted(elsewhere, "fal-ai/flux/schnell", {"prompt": "x"}, "k2", "api.usenaive.ai")
    good = journalled("a fox", 4)

    shown = online.run("%naive resume")
    *results, table = shown.results
    assert [r.job_ids for r in results] == [[good]]
    outcomes = {row[0]: row[1] for row in table.rows}
    assert outcomes == {
        failed: "failed",
        cancelled: "cancelled",
        lost: "lost",
        elsewhere: "skipped",
        good: "collected",
    }
    details = {row[0]: row[2] for row in table.rows}
    assert "injected failure" in details[failed] and "api.usenaive.ai" in details[elsewhere]
    # every final outcome is written down: only the other backend's job is still pending
    assert [p.job_id for p in journal.pending()] == [elsewhere]
    finals = {e["job_id"]: e["event"] for e in journal.entries() if e["event"] != "submitted"}
    assert (finals[failed], finals[cancelled], finals[lost]) == ("failed", "cancelled", "lost")
    again = online.run("%naive resume")
    assert [row[1] for row in again.results[-1].rows] == ["skipped"]  # nothing raised


def test_after_a_restart_the_embedded_servers_old_jobs_are_lost_not_pending(
    ip: TestingShell,
) -> None:
    # written by a kernel whose embedded server has gone: the new one (any port) answers 404
    journal = JobJournal("naive-results")
    old = "22222222-2222-2222-2222-222222222222"
    journal.submitted(old, "fal-ai/flux/schnell", {"prompt": "x", "seed": 1}, "k", LOCAL_BACKEND)
    with pytest.raises(NaiveUsageError, match=f"Job {old}: lost"):
        ip.run(f"%naive resume {old}")
    assert journal.pending() == []
    table = ip.run("%naive jobs")
    assert old not in table.text()


def test_price_plans_and_checks_the_request_as_generation_does(
    online: TestingShell, local_server: LocalServer
) -> None:
    before = len(local_server.request_log)
    for cell, needle in (
        ("%naive price --model fal-ai/recraft-v3 --num 3", "does not take 'num_images'"),
        ("%naive price --model fal-ai/flux-pro/v1.1 --steps 4", "'num_inference_steps'"),
        ("%naive price --steps 40", "1 to 12"),
    ):
        with pytest.raises(NaiveUsageError, match=needle):
            online.run(cell)
    assert not any("pricing" in r.path for r in local_server.request_log[before:])
    # no prompt is needed for a price, nor an image for an image-to-image model
    table = online.run("%naive price --model fal-ai/flux-pro/v1.1/redux")
    assert table.rows[0][:3] == ("fal-ai/flux-pro/v1.1/redux", 1, 1)


def test_get_messages_point_to_the_magic_not_to_rest(online: TestingShell) -> None:
    with pytest.raises(NaiveUsageError) as unknown:
        online.run("%naive get nonexistent-id")
    assert "%naive jobs lists your recent jobs" in str(unknown.value)
    assert "GET /v1/jobs" not in str(unknown.value)
    with pytest.raises(NaiveUsageError) as not_an_id:
        online.run("%naive get a/b")
    text = str(not_an_id.value)
    assert "'a/b' is not a job id" in text and "%naive jobs" in text
    assert "Fix the named field" not in text and "%naive models" not in text


def test_a_failed_job_ends_in_one_full_stop(online: TestingShell) -> None:
    job = online.magics.client.submit("fal-ai/flux/schnell", {"prompt": "a [fail]", "seed": 1})
    with pytest.raises(NaiveUsageError) as caught:
        online.run(f"%naive get {job.id}")
    text = str(caught.value)
    assert text.endswith("(injected failure).") and ".." not in text


def test_get_of_a_job_sent_to_another_backend_leaves_it_journalled(online: TestingShell) -> None:
    journal = JobJournal("naive-results")
    theirs = "33333333-3333-3333-3333-333333333333"
    journal.submitted(theirs, "fal-ai/flux/schnell", {"prompt": "x"}, "k", "api.usenaive.ai")
    with pytest.raises(NaiveUsageError, match="404"):
        online.run(f"%naive get {theirs}")
    assert [p.job_id for p in journal.pending()] == [
        theirs
    ]  # not "lost": this server never knew it


def test_resume_closes_a_job_already_in_the_store(online: TestingShell) -> None:
    # the kernel died between storing the files and writing "collected" in the journal
    first = online.run("%naive a cat --seed 5 --size square")
    journal = JobJournal("naive-results")
    job_id = first.job_ids[0]
    journal.submitted(job_id, "fal-ai/flux/schnell", first.records[0].input, "k")
    assert [p.job_id for p in journal.pending()] == [job_id]
    again = online.run("%naive resume")
    assert again.job_ids == [job_id]
    assert journal.pending() == []
