"""The sync client: one loop thread, usable inside a running event loop, callbacks in the caller."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from naive_nb.client import _sync
from naive_nb.client._sync import Client, LoopThread
from naive_nb.client._types import Job
from naive_nb.local import LocalServer

from .conftest import run_in_fresh_thread


def test_works_inside_a_running_event_loop(make_client: Callable[..., Client]) -> None:
    client = make_client()

    async def notebook_cell() -> tuple[int, str]:
        # a Jupyter cell runs inside the kernel's loop; the sync API must still work there
        result = client.generate("inside a loop", seed=3)
        return len(result.images), client.get(result.job.id).status

    # (in a fresh thread: the main thread may already run a loop of its own in a full test run)
    assert run_in_fresh_thread(lambda: asyncio.run(notebook_cell())) == (1, "completed")


def test_all_clients_share_one_loop_thread(make_client: Callable[..., Client]) -> None:
    first, second = make_client(), make_client()
    first.status()
    second.status()
    names = [t.name for t in threading.enumerate() if t.name == "naive-nb-loop"]
    assert names == ["naive-nb-loop"]
    assert first._thread is second._thread is LoopThread.get()


def test_callbacks_run_in_the_calling_thread_before_polling(
    make_client: Callable[..., Client], local_server: LocalServer
) -> None:
    client = make_client()
    seen: list[tuple[str, str, int]] = []

    def on_submitted(job: Job) -> None:
        polls = [r for r in local_server.request_log if r.path == f"/v1/jobs/{job.id}"]
        seen.append(("submitted", threading.current_thread().name, len(polls)))
        # a journal could even use the client from here
        assert client.get(job.id).id == job.id

    def on_update(job: Job) -> None:
        seen.append((job.status, threading.current_thread().name, 0))

    client.generate("callbacks", on_submitted=on_submitted, on_update=on_update)
    me = threading.current_thread().name
    assert seen[0] == ("submitted", me, 0)  # the id is known before the first poll
    assert seen[-1][:2] == ("completed", me)
    assert all(name == me for _, name, _ in seen)


def test_callback_errors_propagate(make_client: Callable[..., Client]) -> None:
    def journal_full(job: Job) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        make_client().submit("fal-ai/flux/schnell", {"prompt": "x"}, on_submitted=journal_full)


def test_calling_the_sync_client_from_its_own_loop_thread_is_refused(
    make_client: Callable[..., Client],
) -> None:
    client = make_client()

    async def inside_loop_thread() -> object:
        return client.status()

    with pytest.raises(RuntimeError, match="AsyncClient"):
        LoopThread.get().run(inside_loop_thread())


def test_works_from_several_threads(make_client: Callable[..., Client]) -> None:
    client = make_client()
    results: list[str] = []

    def worker(i: int) -> None:
        results.append(client.generate(f"thread {i}", seed=i).job.status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["completed"] * 4


def test_a_blocked_caller_is_woken_by_the_call_not_by_a_timer(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The calling thread also wakes now and then to notice Ctrl-C; make that an hour. A call
    # that waited for such a wake-up, after its end or after a callback, would hang here.
    client = make_client(on_notice=lambda notice: None)  # every call gets a callback queue
    client.models()
    monkeypatch.setattr(_sync, "_TICK", 3600.0)
    seen: list[str] = []

    def calls() -> None:
        job = client.submit(
            "fal-ai/flux/schnell", {"prompt": "x"}, on_submitted=lambda j: seen.append("submitted")
        )
        seen.append("got" if client.get(job.id).id == job.id else "another job")
        done = client.wait(job.id, on_update=lambda j: seen.append(j.status))
        seen.append(done.status)

    thread = threading.Thread(target=calls, daemon=True)
    thread.start()
    thread.join(60)  # a hang guard, not a speed bar: a timer-bound call would take an hour
    assert not thread.is_alive(), "a sync call did not return once it was done"
    assert seen[:2] == ["submitted", "got"] and seen[-2:] == ["completed", "completed"]
