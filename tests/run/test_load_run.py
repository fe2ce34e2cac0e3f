"""Issue 12: a run rebuilt from what it left, and run again.

Sweeps made on the embedded server over real HTTP; ``naive_nb.load_run`` reads them back from
each source (the run record, a job's manifest or its folder or one of its images, an output's
metadata as a dict, an output and a saved notebook, a grid saved as PNG), gives the exact
request, and plans it into the very jobs on record. A re-run on a fresh server and store makes
the same images byte for byte; on a copy of the store it is served from it with no request, on
any backend. A source without a record, or a record the request no longer makes, is refused
clearly, before anything is sent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from PIL import Image

import naive_nb
from naive_nb import demo
from naive_nb.client import Client
from naive_nb.display.result import NaiveResult
from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook.study import LoadedRun, LoadRunError, load_run, load_runs
from naive_nb.run import Outcome, Plan, Request, Session, Settings
from naive_nb.run.axes import axis_from_spec
from naive_nb.run.records import MANIFEST_NAME
from naive_nb.run.runs import RUNS_DIR, RunBook
from naive_nb.run.store import without_provenance
from tests.conftest import CANARY_KEY
from tests.run.conftest import session_at

SCHNELL, DEV = "fal-ai/flux/schnell", "fal-ai/flux/dev"
SWEEP = Request(
    "a lighthouse at dusk", seeds=(1, 2), axes=(axis_from_spec(f"model={SCHNELL},{DEV}"),)
)


def _session(root: Path, client: Any) -> Session:
    return session_at(root, client, image_size="square")


def _other_session(root: Path, client: Client) -> Session:
    """A session whose defaults all differ from the run's: a loaded run must not take them."""
    settings = Settings(
        store=root, model=DEV, image_size="portrait_4_3", num_images=2, output_format="png"
    )
    return Session(settings, client, progress_interval=0.0)


def _made(
    tmp_path: Path, client: Client, request: Request = SWEEP
) -> tuple[Session, Plan, Outcome]:
    session = _session(tmp_path / "store", client)
    plan = session.plan(request)
    outcome = session.run(plan)
    assert outcome.ok and len(outcome.records) == len(plan.jobs)
    return session, plan, outcome


def _posts(server: LocalServer) -> int:
    return sum(1 for r in server.request_log if r.method == "POST")


def _output(result: NaiveResult) -> dict[str, Any]:
    """The result as a notebook stores it (nbformat's execute_result, JSON round-tripped)."""
    data, metadata = result._repr_mimebundle_()
    output = nbformat.v4.new_output("execute_result", data, metadata=metadata, execution_count=1)
    loaded: dict[str, Any] = json.loads(json.dumps(output))
    return loaded


def _notebook(path: Path, outputs: list[dict[str, Any]]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# a study")]
    for n, output in enumerate(outputs):
        cell = nbformat.v4.new_code_cell(f"%naive run {n}")
        cell.outputs = [nbformat.from_dict(output)]
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return path


def _sources(tmp_path: Path, session: Session, outcome: Outcome) -> dict[str, Any]:
    """Every kind of thing the run left, by name."""
    result = NaiveResult(outcome)
    output = _output(result)
    job = outcome.records[-1]
    manifest = job.files[0].path.parent / MANIFEST_NAME
    (record,) = list((session.store.root / RUNS_DIR).glob("*.json"))
    return {
        "run record": record,
        "manifest": manifest,
        "job folder": str(manifest.parent),
        "stored image": job.files[0].path,
        "metadata": output["metadata"],
        "metadata body": output["metadata"]["naive"],
        "output": output,
        "notebook": _notebook(tmp_path / "study.ipynb", [output]),
        "grid png": result.grid().save(tmp_path / "grid.png"),
        "grid json": tmp_path / "tiles" / "grid.json",
    }


def _load(name: str, source: Any, outcome: Outcome) -> LoadedRun:
    if name == "grid json":
        NaiveResult(outcome).grid().save_images(Path(source).parent)
    return load_run(source)


# -- the run record ------------------------------------------------------------------------------
def test_a_finished_run_is_on_record_once(client: Client, tmp_path: Path) -> None:
    session, plan, outcome = _made(tmp_path, client)
    records = list((session.store.root / RUNS_DIR).glob("*.json"))
    assert len(records) == 1
    data = json.loads(records[0].read_text())
    assert data["kind"] == "naive-nb run" and data["version"] == naive_nb.__version__
    assert Request.from_json(data["request"]) == plan.resolved
    assert data["defaults"]["image_size"] == "square"
    assert [job["key"] for job in data["jobs"]] == plan.keys
    assert [job["job_id"] for job in data["jobs"]] == [
        outcome.by_index[n].job_id for n in range(len(plan.jobs))
    ]
    assert [job["status"] for job in data["jobs"]] == ["done"] * 4
    assert [job["coords"] for job in data["jobs"]][1] == {"seed": 1, "model": DEV}
    assert CANARY_KEY not in records[0].read_text()
    # the same run again, served from the store: the same jobs, so the same record, kept as
    # the run that made them
    again = session.run(session.plan(SWEEP))
    assert again.cached == 4
    assert list((session.store.root / RUNS_DIR).glob("*.json")) == records
    assert json.loads(records[0].read_text())["jobs"][0]["status"] == "done"
    assert session.history == [outcome, again]


# -- load_run, from each source ------------------------------------------------------------------
SOURCES = [
    "run record",
    "manifest",
    "job folder",
    "stored image",
    "metadata",
    "metadata body",
    "output",
    "notebook",
    "grid png",
    "grid json",
]


@pytest.mark.parametrize("name", SOURCES)
def test_load_run_gives_back_the_exact_request(
    name: str, client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session, plan, outcome = _made(tmp_path, client)
    source = _sources(tmp_path, session, outcome)[name]
    run = _load(name, source, outcome)
    # the whole sweep, seeds concrete, equal to what ran, and through JSON and back
    assert run.request == plan.resolved
    assert Request.from_json(json.loads(json.dumps(run.request.to_json()))) == run.request
    # a manifest or an image leads back to its whole sweep (the run record that lists it)
    assert set(run.job_ids) == set(outcome.job_ids)
    before = len(local_server.request_log)
    again = run.plan(session)
    assert again.keys == plan.keys  # the very jobs on record
    assert len(local_server.request_log) == before  # planning it sends nothing


def test_a_random_seed_is_given_back_as_the_seed_drawn(client: Client, tmp_path: Path) -> None:
    session, plan, outcome = _made(tmp_path, client, Request("a red fox in snow"))
    assert plan.chosen_seed is not None
    output = _output(NaiveResult(outcome))
    other = _other_session(tmp_path / "other", session.client)  # another default model
    for source in (output, outcome.records[0].files[0].path):
        run = load_run(source)
        assert run.request.seeds == (plan.chosen_seed,)
        assert run.plan(other).keys == plan.keys


def test_a_manifest_without_its_run_record_gives_its_own_job(
    client: Client, tmp_path: Path
) -> None:
    session, _, outcome = _made(tmp_path, client)
    shutil.rmtree(session.store.root / RUNS_DIR)
    record = outcome.records[1]
    run = load_run(record.files[0].path.parent / MANIFEST_NAME)
    assert run.record.kind == "job" and run.job_ids == [record.job_id]
    assert run.request.model == record.model and run.request.seeds == (record.seed,)
    assert run.plan(session).keys == [record.cache_key]


def test_an_image_copied_out_of_its_store_gives_the_request_that_made_it(
    client: Client, tmp_path: Path
) -> None:
    session, _, outcome = _made(tmp_path, client)
    record = outcome.records[1]
    alone = tmp_path / "mailed" / "fox.png"
    alone.parent.mkdir()
    shutil.copy(record.files[0].path, alone)
    run = load_run(alone)
    assert run.record.kind == "job" and run.job_ids == []  # the file names no job
    assert run.request.model == record.model and run.request.seeds == (record.seed,)
    assert run.plan(session).keys == [record.cache_key]


def test_an_output_saved_before_outputs_carried_the_request(client: Client, tmp_path: Path) -> None:
    session, _, outcome = _made(tmp_path, client, Request("a calm lake", seeds=(3, 4, 5)))
    output = _output(NaiveResult(outcome))
    del output["metadata"]["naive"]["request"]  # as the committed quickstart's outputs are
    run = load_run(output)
    assert run.request.seeds == (3, 4, 5) and run.request.model == SCHNELL
    assert run.plan(session).keys == [r.cache_key for r in outcome.records]


def test_a_notebook_output_is_picked_by_its_number(client: Client, tmp_path: Path) -> None:
    _, plan, outcome = _made(tmp_path, client)
    _, other, second = _made(tmp_path / "b", client, Request("a whale", seeds=(9,)))
    path = _notebook(
        tmp_path / "two.ipynb", [_output(NaiveResult(outcome)), _output(NaiveResult(second))]
    )
    assert load_run(path, output=0).request == plan.resolved
    assert load_run(path, output=-1).request == other.resolved
    assert [run.request for run in load_runs(path)] == [plan.resolved, other.resolved]
    with pytest.raises(LoadRunError, match=r"2 outputs with a naive-nb record.*output=N"):
        load_run(path)
    with pytest.raises(LoadRunError, match="there is no output=2"):
        load_run(path, output=2)


def test_load_run_from_a_notebook_executed_by_a_real_kernel(tmp_path: Path) -> None:
    """The saved .ipynb of a real kernel (nbclient), then re-run from its store: 0 requests."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext naive_nb"),
        nbformat.v4.new_code_cell("%config NaiveMagics.size = 'square'"),
        nbformat.v4.new_code_cell("%naive a lighthouse at dusk --seeds 1,2 --steps 1,2"),
    ]
    with serve_local(api_key=CANARY_KEY, time_scale=0.01, rate_limit=None) as server:
        env = {"NAIVE_API_KEY": CANARY_KEY, "NAIVE_BASE_URL": server.url}
        demo.execute(notebook, tmp_path, timeout=120, env=env)
        path = tmp_path / "study.ipynb"
        nbformat.write(notebook, path)
        run = load_run(path)
        assert run.request.seeds == (1, 2) and run.request.axes[0].values == (1, 2)
        with Client(CANARY_KEY, base_url=server.url) as client:
            session = _session(tmp_path / "naive-results", client)
            before = len(server.request_log)
            result = run.rerun(session=session)
            assert len(server.request_log) == before
    assert result.outcome.cached == 4 and result.credits == 0
    assert CANARY_KEY not in path.read_text()


# -- re-running ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["grid png", "manifest", "output"])
def test_a_rerun_on_a_fresh_embedded_server_makes_byte_identical_files(
    name: str, client: Client, tmp_path: Path
) -> None:
    session, plan, outcome = _made(tmp_path, client)
    run = _load(name, _sources(tmp_path, session, outcome)[name], outcome)
    with (
        serve_local(api_key=CANARY_KEY, time_scale=0.01, spread=0.2, rate_limit=None) as fresh,
        Client(CANARY_KEY, base_url=fresh.url) as other,
    ):
        elsewhere = _other_session(tmp_path / "fresh-store", other)
        result = run.rerun(session=elsewhere)
        assert _posts(fresh) == len(plan.jobs)  # nothing in that store: every job made again
    assert result.outcome.plan is not None and result.outcome.plan.keys == plan.keys
    assert result.outcome.cached == 0
    first = {r.cache_key: r for r in outcome.records}
    for record in result.records:
        made_before = first[record.cache_key]
        assert record.job_id != made_before.job_id
        for new, old in zip(record.files, made_before.files, strict=True):
            # another job on another server, the same file: the provenance inside it is what
            # made it (the request), the job that ran it is in the manifest beside it
            assert new.read_bytes() == old.read_bytes() and new.sha256 == old.sha256
            assert new.path != old.path
            assert without_provenance(new.read_bytes()) != new.read_bytes()  # it has one


@pytest.mark.parametrize("name", ["run record", "manifest", "grid png", "metadata"])
def test_a_rerun_on_a_copy_of_the_store_is_served_from_it_on_any_backend(
    name: str, client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session, plan, outcome = _made(tmp_path, client)
    copied = tmp_path / "copy-of-store"
    shutil.copytree(session.store.root, copied)
    sources = _sources(tmp_path, session, outcome)
    source = sources[name]
    if isinstance(source, Path) and session.store.root in source.parents:
        source = copied / source.relative_to(session.store.root)  # read from the copy
    run = _load(name, source, outcome)
    # another server than the one that made them: a stored result answers for any backend
    with (
        serve_local(api_key=CANARY_KEY, time_scale=0.01, rate_limit=None) as another,
        Client(CANARY_KEY, base_url=another.url) as other,
    ):
        before = (len(local_server.request_log), len(another.request_log))
        result = run.rerun(session=_other_session(copied, other))
        assert (len(local_server.request_log), len(another.request_log)) == before
    assert result.outcome.cached == len(plan.jobs) and result.credits == 0
    assert result.job_ids == outcome.job_ids
    assert all(copied in image.path.parents for image in result.images)


def test_cache_only_rerun_sends_nothing_and_refresh_makes_new_jobs(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session, _, outcome = _made(tmp_path, client)
    run = load_run(next((session.store.root / RUNS_DIR).glob("*.json")))
    posts = _posts(local_server)
    cached = run.rerun(cache_only=True, session=session)
    assert cached.outcome.cached == 4 and _posts(local_server) == posts
    fresh = run.rerun(refresh=True, session=session)
    assert _posts(local_server) == posts + 4
    assert not set(fresh.job_ids) & set(outcome.job_ids)


# -- refusals ------------------------------------------------------------------------------------
def test_sources_without_a_record_are_refused_clearly(tmp_path: Path) -> None:
    plain = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(plain)
    (tmp_path / "other.json").write_text(json.dumps({"name": "not ours"}))
    (tmp_path / "empty").mkdir()
    _notebook(tmp_path / "none.ipynb", [])
    (tmp_path / "notes.txt").write_text("hello")
    cases: list[tuple[Any, str]] = [
        (plain, "holds no naive-nb record: no 'naive' text chunk"),
        (tmp_path / "other.json", r"holds no naive-nb record \(its keys: name\)"),
        (tmp_path / "empty", "holds no manifest.json"),
        (tmp_path / "none.ipynb", "has no output with a naive-nb record"),
        (tmp_path / "missing.json", "no such file or folder"),
        (tmp_path / "notes.txt", "holds no naive-nb record. load_run reads a run record"),
        ({"metadata": {"other": 1}}, r"holds no naive-nb record \(its keys: metadata\)"),
        (42, "load_run takes a path or an output's metadata"),
    ]
    for source, message in cases:
        with pytest.raises(LoadRunError, match=message):
            load_run(source)


def test_a_job_rebuilt_from_the_servers_record_is_not_an_exact_request(
    client: Client, tmp_path: Path
) -> None:
    _, _, outcome = _made(tmp_path, client)
    manifest = outcome.records[0].files[0].path.parent / MANIFEST_NAME
    data = json.loads(manifest.read_text())
    data.update(request_source="reconstructed", unknown_input=["num_inference_steps"])
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(LoadRunError, match="does not report num_inference_steps"):
        load_run(tmp_path / "foreign" / MANIFEST_NAME)


def test_a_record_the_request_no_longer_makes_is_refused_before_sending(
    client: Client, local_server: LocalServer, tmp_path: Path
) -> None:
    session, _, _ = _made(tmp_path, client)
    path = next((session.store.root / RUNS_DIR).glob("*.json"))
    data = json.loads(path.read_text())
    data["jobs"][2]["input"]["num_inference_steps"] = 3  # a job this request never made
    path.write_text(json.dumps(data))
    run = load_run(path)
    posts = _posts(local_server)
    with pytest.raises(LoadRunError, match="does not make 1 of the 4 jobs on record"):
        run.rerun(session=session)
    assert _posts(local_server) == posts


def test_kernels_writing_one_run_record_at_once_leave_it_whole(
    client: Client, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    session, plan, outcome = _made(tmp_path, client)
    runs = session.store.root / RUNS_DIR
    shutil.rmtree(runs)
    books = [RunBook(session.store.root) for _ in range(8)]  # one per writer, as kernels have
    with ThreadPoolExecutor(8) as pool:
        written = set(pool.map(lambda book: book.save(outcome, session.settings), books))
    assert len(written) == 1 and [p.name for p in runs.iterdir()] == [written.pop().name]
    assert load_run(next(runs.iterdir())).plan(session).keys == plan.keys
