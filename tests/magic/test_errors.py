"""Every error a newcomer can meet: short, naming the field, saying what next; the cell fails."""

from __future__ import annotations

import _thread
import ast
import asyncio
import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from naive_nb.client import Client, Job, RetryPolicy
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
    grids = [o for o in captured.outputs if "naive" in o.metadata]  # the grid's output
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
    assert "Cache-only: no cached result" in text and "seed 2" in text
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


def test_interrupt_just_after_a_job_was_accepted_cancels_that_job_too(
    ip: TestingShell, slow_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C lands right after the first job's submit came back (its id journalled, the submit's
    # reply not yet taken in by the run): that job must be cancelled like any other, never left
    # processing (and charged) while the cell says "no job was still running"
    from naive_nb.client import AsyncClient

    ip.use_client(slow_server)
    submit = AsyncClient.submit

    async def accepted_then_interrupted(self: AsyncClient, *args: object, **kwargs: object) -> Job:
        job = await submit(self, *args, **kwargs)  # type: ignore[arg-type]
        _thread.interrupt_main()
        await asyncio.sleep(0.3)  # the interrupt lands while this submit is still returning
        return job

    monkeypatch.setattr(AsyncClient, "submit", accepted_then_interrupted)
    text = _error(ip, "%naive a cat --seeds 1-2 --size square")
    jobs = slow_server.jobs()
    assert jobs and all(job["status"] == "cancelled" for job in jobs)
    assert "no job was still running" not in text
    assert all(job["id"] in text for job in jobs)
    assert JobJournal("naive-results").pending() == []


def test_a_balance_below_zero_gives_the_servers_reason_not_a_smaller_cell(
    ip: TestingShell,
) -> None:
    with serve_local(api_key=CANARY_KEY, balance=-0.5, rate_limit=None) as server:
        ip.use_client(server)
        text = _error(ip, "%naive a cat --seed 1")
        status = ip.run("%naive status")
    _one_short_line(text)
    assert "Not enough credits" in text and "balance is -0.5" in text
    assert "--num" not in text and "lower" not in text  # no smaller cell fits below zero
    assert "Buy credits" in text
    # the server's note says why the balance is below zero; status shows it
    assert "charged" in status.text() and "Balance:" in status.text()


def test_a_completed_job_without_images_is_collected_with_the_magic_not_python() -> None:
    from naive_nb.errors import JobResultMissing
    from naive_nb.notebook.messages import short_message

    text = short_message(JobResultMissing("job-7")) or ""
    assert "%naive get job-7" in text and "client." not in text


def test_short_errors_off_shows_the_failed_job_behind_a_get(online: TestingShell) -> None:
    from naive_nb.errors import JobFailed

    job = online.magics.client.submit("fal-ai/flux/schnell", {"prompt": "a [fail]", "seed": 1})
    online.run("%config NaiveMagics.short_errors = False")
    with pytest.raises(JobFailed) as caught:  # the client's own error, not CellFailed
        online.run(f"%naive get {job.id}")
    assert caught.value.job_id == job.id


def test_a_prompt_over_the_limit_says_its_length_not_that_it_is_empty(
    online: TestingShell, local_server: LocalServer
) -> None:
    before = len(local_server.request_log)
    text = _error(online, f"%%naive --seed 1\n{'a lighthouse ' * 400}\n")
    assert "The prompt is 5199 characters long; the limit is 4000." in text
    assert "empty" not in text and text.endswith("Nothing was sent.")
    assert len(local_server.request_log) == before


def test_a_missing_input_without_a_flag_says_how_to_give_it(online: TestingShell) -> None:
    text = _error(online, "%naive a fox --model fal-ai/flux-pro/v1.1/redux")
    assert "give it with -p image_url=VALUE" in text


# ---- no string surgery on another layer's words (issue 8) -------------------------------------

#: string methods that cut or rewrite a text
SURGERY = frozenset(
    {"replace", "split", "rsplit", "removeprefix", "removesuffix", "partition", "rpartition"}
)
#: ``re`` functions that do the same
RE_SURGERY = frozenset({"sub", "subn", "split"})
#: attributes that hold an exception's (or a lower layer's) words
TEXT_ATTRIBUTES = frozenset(
    {"message", "summary", "advice", "hint", "server_message", "reason", "detail", "args"}
)


def _surgery(source: str) -> list[str]:
    """Where ``source`` cuts or rewrites an exception's text: a method of SURGERY (or ``re.sub``
    ...) applied to ``str(x)`` / ``repr(x)``, to an error's text attribute, to a method chain on
    either, or to a name bound to one (a local, or the parameter of a function in the module
    that some call hands such a text)."""
    tree = ast.parse(source)
    functions = {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    tainted: dict[str, set[str]] = {name: set() for name in functions}

    def is_text(node: ast.AST, names: set[str]) -> bool:
        if isinstance(node, ast.Name):
            return node.id in names
        if isinstance(node, ast.Attribute):
            return node.attr in TEXT_ATTRIBUTES or is_text(node.value, names)
        if isinstance(node, ast.Subscript):
            return is_text(node.value, names)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("str", "repr", "format"):
                return True
            if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) > 1:
                attribute = node.args[1]
                return isinstance(attribute, ast.Constant) and attribute.value in TEXT_ATTRIBUTES
            return isinstance(func, ast.Attribute) and is_text(func.value, names)
        if isinstance(node, ast.BinOp):
            return is_text(node.left, names) or is_text(node.right, names)
        if isinstance(node, ast.JoinedStr):
            return any(
                is_text(part.value, names)
                for part in node.values
                if isinstance(part, ast.FormattedValue)
            )
        return False

    def bound(target: ast.AST) -> set[str]:
        return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}

    changed = True
    while changed:  # names bound to a text, and parameters a text is handed to, to a fixpoint
        changed = False
        for name, function in functions.items():
            names = tainted[name]
            for node in ast.walk(function):
                found: set[str] = set()
                if isinstance(node, ast.Assign) and is_text(node.value, names):
                    found = set().union(*(bound(target) for target in node.targets))
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                    found = bound(node.target) if is_text(node.value, names) else set()
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    callee = functions.get(node.func.id)
                    if callee is not None:
                        params = [a.arg for a in callee.args.posonlyargs + callee.args.args]
                        given = [*zip(params, node.args, strict=False)]
                        given += [(k.arg, k.value) for k in node.keywords if k.arg]
                        hit = {param for param, arg in given if is_text(arg, names)}
                        if not hit <= tainted[node.func.id]:
                            tainted[node.func.id] |= hit
                            changed = True
                if not found <= names:
                    names |= found
                    changed = True
    cuts = []
    for name, function in functions.items():
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method, receiver = node.func.attr, node.func.value
            if method in SURGERY and is_text(receiver, tainted[name]):
                cuts.append(f"{name}, line {node.lineno}: .{method}(")
            elif (
                method in RE_SURGERY
                and isinstance(receiver, ast.Name)
                and receiver.id == "re"
                and any(is_text(arg, tainted[name]) for arg in node.args)
            ):
                cuts.append(f"{name}, line {node.lineno}: re.{method}(")
    return cuts


def test_the_surgery_check_finds_each_way_of_cutting_a_message() -> None:
    cut = {
        "direct": "def f(error):\n    return str(error).replace('a', 'b')\n",
        "chained": "def f(error):\n    return str(error).strip().split('. ')[0]\n",
        "local": "def f(error):\n    text = str(error)\n    return text.removeprefix('x')\n",
        "attribute": "def f(error):\n    return error.summary.replace('a', 'b')\n",
        "getattr": "def f(e):\n    return getattr(e, 'message', '').partition(':')\n",
        "handed on": (
            "def f(error):\n    return g(1, str(error))\n"
            "def g(n, text):\n    return text.replace('a', 'b')\n"
        ),
        "re": "import re\ndef f(error):\n    return re.sub('a', 'b', error.message)\n",
    }
    for how, source in cut.items():
        assert _surgery(source), how
    kept = {
        "the key scrubbed": "def scrub(text, secret):\n    return text.replace(secret, '***')\n",
        "a field, not words": "def f(error):\n    return error.field.removeprefix('input.')\n",
        "words of its own, from a field": (
            "def f(error):\n    words = f'Job {error.job_id} failed.'\n"
            "    return words.replace('Job', 'job')\n"
        ),
    }
    for how, source in kept.items():
        assert _surgery(source) == [], how


def test_no_notebook_module_cuts_or_rewrites_a_lower_layers_message() -> None:
    # the words are chosen in the notebook layer from codes and fields (issue 8); the client's
    # (or the run layer's) text is shown whole or not at all. scrub() is a safety net for the
    # key, whatever the text: it is not rewording, and it takes any text as a parameter.
    import naive_nb.notebook

    folder = Path(naive_nb.notebook.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert {"messages.py", "client_errors.py"} <= {module.name for module in modules}
    found = {m.name: _surgery(m.read_text(encoding="utf-8")) for m in modules}
    assert {name: cuts for name, cuts in found.items() if cuts} == {}
