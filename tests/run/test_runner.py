"""The runner on the embedded server: journal before polling, cache, order of a sweep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from naive_nb._client import Client
from naive_nb.local import LocalServer
from naive_nb.run.events import ProgressState
from naive_nb.run.journal import JobJournal
from naive_nb.run.runner import Runner, plan
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
