"""Every error a newcomer can meet: short, naming the field, saying what next; the cell fails."""

from __future__ import annotations

import _thread
import dataclasses
import re
import threading
import time
from collections.abc import Iterator

import pytest

from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client
from naive_nb.errors import ValidationError
from naive_nb.local import LocalServer, catalog, serve_local
from naive_nb.notebook.args import MagicUsageError
from naive_nb.notebook.messages import NaiveUsageError
from naive_nb.run.journal import JobJournal
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell

FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, budget=1.0)


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    """Jobs last their full estimate (a few seconds): long enough to interrupt or time out."""
    with serve_local(api_key=CANARY_KEY, time_scale=1.0, spread=0.0, rate_limit=None) as server:
        yield server


def _error(ip: TestingShell, cell: str) -> str:
    with pytest.raises(NaiveUsageError) as caught:
        ip.run(cell)
    text = str(caught.value)
    assert CANARY_KEY not in text
    assert caught.value._render_traceback_() == [f"\x1b[0;31m{text}\x1b[0m"]
    return text


@pytest.mark.parametrize(
    ("cell", "needles"),
    [
        ("%naive a cat --bogus 1", ["unknown flag --bogus", "Allowed:"]),
        ("%naive a cat --seed 1 --seed 2", ["--seed is given twice"]),
        ("%naive a cat --size huge", ["--size must be one of", "square_hd"]),
        (
            "%naive a cat --steps 20",
            ["num_inference_steps (--steps)", "1 to 12", "Nothing was sent."],
        ),
        (
            "%naive a cat --seed 1 --num 3 -m fal-ai/recraft-v3",
            ["does not take 'num_images'", "Nothing was sent."],
        ),
        (
            "%naive a fox --model fal-ai/flux-pro/v1.1/redux",  # the image is required
            ["input.image_url is required for fal-ai/flux-pro/v1.1/redux", "Nothing was sent."],
        ),
        (
            "%naive a cat --model fal-ai/flux-pro/v1.1 --steps 4",
            ["fal-ai/flux-pro/v1.1 does not take 'num_inference_steps' (--steps)", "Allowed:"],
        ),
        ("%naive --seed 1", ["prompt is empty"]),
        ("%%naive --seed 1\n   \n", ["prompt is empty"]),
        ("%naive a cat -p colors=3", ["does not take 'colors'"]),
    ],
)
def test_bad_input_is_refused_before_any_request(
    online: TestingShell, local_server: LocalServer, cell: str, needles: list[str]
) -> None:
    before = len(local_server.request_log)
    text = _error(online, cell)
    for needle in needles:
        assert needle in text
    # nothing was submitted; a key the documented catalog lacks is looked up in the served one
    sent = [r.path for r in local_server.request_log[before:]]
    assert sent in ([], ["/v1/images/models"])


def test_unknown_model_lists_the_catalog(online: TestingShell) -> None:
    text = _error(online, "%naive a cat --model acme/imagine")
    assert "Unknown model 'acme/imagine'" in text
    assert "fal-ai/flux/schnell" in text and "%naive models" in text


def test_short_errors_off_shows_the_original_exception(online: TestingShell) -> None:
    online.run("%config NaiveMagics.short_errors = False")
    with pytest.raises(ValidationError):  # the client's own validator's error
        online.run("%naive a cat --steps 20")
    with pytest.raises(MagicUsageError):
        online.run("%naive a cat --nope")


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def _one_short_line(text: str) -> None:
    assert "\n" not in text and len(text) < 400
    sentences = _sentences(text)
    assert len(sentences) == len(set(sentences))  # nothing said twice


def test_no_credits_says_the_price(ip: TestingShell) -> None:
    with serve_local(api_key=CANARY_KEY, balance=0.1, rate_limit=None) as server:
        ip.use_client(server)
        text = _error(ip, "%naive a cat --seed 1 --num 4")
    _one_short_line(text)
    # one sentence of cost and balance (from the error's figures), one of what to do
    cost, todo = _sentences(text.removeprefix("%naive: "))
    assert cost.startswith("Not enough credits") and "0.48 credits" in cost
    assert "balance is 0.1" in cost
    assert "--num" in todo and "%naive price" in todo and "Buy credits" in todo
    assert "num_images" not in text and text.count("lower") == 1  # the cell's flag, once


def test_wrong_key_explains_how_to_set_one_safely(
    ip: TestingShell, local_server: LocalServer
) -> None:
    ip.use_client(local_server, api_key="nv_sk_live_WRONG-not-a-real-key-000000")
    text = _error(ip, "%naive a cat --seed 1")
    _one_short_line(text)
    assert "401" in text and "%naive login" in text
    assert "not %env" in text  # ... as what never to do
    assert "WRONG0000" not in text
    assert "api_key you passed" not in text  # a typed key is an argument to the client


def test_wrong_key_keeps_the_advice_for_this_configuration(
    ip: TestingShell, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # key and address from the environment, as a kernel started with them has: unsetting the
    # key alone would send keyless requests to that address, so the advice names both
    monkeypatch.setenv("NAIVE_API_KEY", "nv_sk_live_WRONG-not-a-real-key-000000")
    monkeypatch.setenv("NAIVE_BASE_URL", local_server.url)
    text = _error(ip, "%naive a cat --seed 1")
    _one_short_line(text)
    assert "refused the key: check NAIVE_API_KEY" in text
    assert "unset NAIVE_API_KEY and unset NAIVE_BASE_URL" in text
    assert text.count("%naive login") == 1 and text.count("%env") == 1
    assert "WRONG0000" not in text


def test_rate_limit_says_when_to_retry(online: TestingShell, local_server: LocalServer) -> None:
    local_server.faults.rate_limit_burst = 1000
    local_server.faults.burst_retry_after = 3600
    text = _error(online, "%naive a cat --seed 1")
    assert "Rate limited" in text and "Wait" in text


def test_failed_job_shows_server_message_and_job_id(
    online: TestingShell, local_server: LocalServer
) -> None:
    text = _error(online, "%naive a cat [fail] --seed 1")
    job_id = local_server.jobs()[0]["id"]
    assert "1 of 1 job failed" in text and job_id in text
    assert "injected failure" in text or "could not render" in text


def test_partly_failed_sweep_shows_the_grid_then_fails(
    online: TestingShell, local_server: LocalServer
) -> None:
    local_server.faults.job_failure_rate = 0.5
    local_server.faults.seed = 1
    from IPython.utils.capture import capture_output

    with capture_output() as captured, pytest.raises(NaiveUsageError) as caught:
        online.run("%naive a cat --seeds 1-6 --size square")
    assert "of 6 jobs failed" in str(caught.value)
    grids = [o for o in captured.outputs if "image/jpeg" in o.data]
    assert len(grids) == 1
    assert "FAILED" in grids[0].data["text/plain"]
    assert grids[0].metadata["naive"]["failures"]


def test_deadline_passed_names_the_job_and_how_to_collect_it(
    ip: TestingShell, slow_server: LocalServer
) -> None:
    ip.use_client(slow_server)
    text = _error(ip, "%naive a cat --seed 1 --timeout 1")
    job_id = slow_server.jobs()[0]["id"]
    # it did not fail: it runs on, may be charged, is journalled, and the way to collect it
    assert "failed" not in text
    assert f"job {job_id} is still running" in text and "1s deadline" in text
    assert "may still be charged" in text and "journal" in text
    assert f"%naive resume {job_id}" in text and f"%naive get {job_id}" in text
    pending = JobJournal("naive-results").pending()
    assert [p.job_id for p in pending] == [job_id]
    result = ip.run("%naive resume")  # waits for it, then collects it
    assert result.job_ids == [job_id]
    assert JobJournal("naive-results").pending() == []


def test_unreachable_server(ip: TestingShell) -> None:
    ip.magics._client = Client(CANARY_KEY, base_url="http://127.0.0.1:9", retry=FAST_RETRY)
    text = _error(ip, "%naive a cat --seed 1")
    assert "Cannot reach the Naive API" in text


def test_offline_mode_fails_clearly_on_a_miss_without_requests(
    online: TestingShell, local_server: LocalServer
) -> None:
    online.run("%naive a cat --seed 1 --size square")
    before = len(local_server.request_log)
    online.run("%naive a cat --seed 1 --size square --offline")  # a hit: fine
    text = _error(online, "%naive a cat --seeds 1-2 --size square --offline")
    assert "Offline mode: no cached result" in text and "seed 2" in text
    online.run("%config NaiveMagics.offline = True")
    _error(online, "%naive a dog --seed 1 --size square")
    assert len(local_server.request_log) == before


def test_interrupt_cancels_the_remote_job_and_fails_the_cell(
    ip: TestingShell, slow_server: LocalServer
) -> None:
    ip.use_client(slow_server)
    timer = threading.Timer(0.8, _thread.interrupt_main)
    timer.start()
    try:
        text = _error(ip, "%naive a cat --seeds 1-2")
    finally:
        timer.cancel()
    statuses = sorted(job["status"] for job in slow_server.jobs())
    assert statuses == ["cancelled", "cancelled"]
    assert "Interrupted: cancelled job" in text
    for job in slow_server.jobs():
        assert job["id"] in text
    assert JobJournal("naive-results").pending() == []


def test_interrupt_mid_submit_says_the_job_it_created_was_cancelled(
    ip: TestingShell, slow_server: LocalServer
) -> None:
    # The server sleeps `latency` before handling the POST, and Ctrl-C (a real SIGINT in the
    # main thread) lands in that sleep: the client lets the POST answer, cancels the job it
    # created and says so. The cell keeps that account (not "no job was still running").
    ip.use_client(slow_server)
    ip.magics.client.models()  # the served catalog, fetched before the latency is injected
    slow_server.faults.latency = 0.4

    def interrupt_mid_post() -> None:
        while not any(r.method == "POST" for r in slow_server.request_log):
            time.sleep(0.005)
        time.sleep(0.1)
        slow_server.faults.latency = 0.0  # the POST keeps its 0.4 s; the cancel is quick
        _thread.interrupt_main()

    threading.Thread(target=interrupt_mid_post, daemon=True).start()
    text = _error(ip, "%naive a cat --seed 1 --model fal-ai/flux/dev")
    (job,) = slow_server.jobs()
    assert slow_server.jobs()[0]["status"] == "cancelled"
    assert f"job {job['id']} (created by the interrupted submit) was cancelled" in text
    assert "no job was still running" not in text
    assert "client." not in text and f"%naive get {job['id']} shows its final state" in text
    journal = JobJournal("naive-results")
    events = [(e["job_id"], e["event"]) for e in journal.entries()]
    assert events == [(job["id"], "submitted"), (job["id"], "cancelled")]
    assert journal.pending() == []


def test_offline_mode_refuses_an_undocumented_model_without_a_request(
    online: TestingShell, local_server: LocalServer
) -> None:
    before = len(local_server.request_log)
    text = _error(online, "%naive a cat --seed 1 --model acme/imagine --offline")
    assert "documented models only" in text and "acme/imagine" in text
    assert len(local_server.request_log) == before


def test_a_parameter_the_served_catalog_adds_later_is_usable_online(
    online: TestingShell, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server now lists a key the documented catalog does not know: the server's word wins
    schnell = catalog.MODELS["fal-ai/flux/schnell"]
    newer = dataclasses.replace(schnell, key_params=(*schnell.key_params, "acceleration"))
    monkeypatch.setitem(catalog.MODELS, schnell.id, newer)
    result = online.run("%naive a cat --seed 1 --size square -p acceleration=high")
    assert result.records[0].input["acceleration"] == "high"
    # offline, only the documented catalog can be asked: refused, naming the key
    text = _error(online, "%naive a cat --seed 2 --size square -p acceleration=high --offline")
    assert "does not take 'acceleration'" in text and text.endswith("Nothing was sent.")
