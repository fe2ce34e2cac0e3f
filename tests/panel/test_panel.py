"""The panel without a browser: its widgets on a recording comm, the core on the embedded server
over real HTTP. Each test drives the panel as the front end would: by setting widget values
and clicking buttons (``Button.click()`` runs the handlers ipywidgets would run)."""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import pytest

from naive_nb.client import steps_range
from naive_nb.local import LocalServer
from naive_nb.notebook.args import parse_line
from naive_nb.notebook.panel import Panel
from naive_nb.notebook.panel.record import EMPTY
from naive_nb.notebook.panel.words import PANEL_TEXT
from naive_nb.run import Request, Session
from tests.panel.conftest import RecordingComm, updates, wait_until


def spy_on_start(session: Session, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    original = session.start

    def start(plan: Any, observer: Any = None) -> Any:
        calls.append((plan, threading.current_thread().name))
        return original(plan, observer)

    monkeypatch.setattr(session, "start", start)
    return calls


def test_generate_calls_the_core_once_with_the_widget_values(
    panel: Panel, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_on_start(session, monkeypatch)
    panel.view.prompt.value = "a red fox in snow"
    panel.view.model.value = "fal-ai/flux/dev"
    panel.view.controls.inputs["num_inference_steps"].value = 10
    panel.view.controls.inputs["image_size"].value = "square"
    panel.view.seeds.text.value = "3, 5"
    panel.view.generate_button.click()
    run = panel.runs[-1]
    assert run.wait(30)
    assert len(calls) == 1
    plan, thread = calls[0]
    assert plan.request == Request(
        prompt="a red fox in snow",
        model="fal-ai/flux/dev",
        params={"num_inference_steps": 10, "image_size": "square"},
        seeds=(3, 5),
    )
    assert thread == "naive-nb-loop"  # started on naive-nb's loop thread, not the kernel's
    assert run.state == "done", run.summary
    assert [tile.seed for tile in run.tiles] == [3, 5]
    assert all(tile.thumbnail.startswith(b"\xff\xd8") for tile in run.tiles)  # JPEG bytes
    assert panel.errors == []


def test_generate_returns_while_the_job_still_runs(
    slow_server: LocalServer, session: Session, panel: Panel
) -> None:
    panel.view.generate_button.click()  # returns: the run goes on in the background
    run = panel.runs[-1]
    assert run.running and not run.finished.is_set()
    assert panel.view.generate_button.disabled and not panel.view.cancel_button.disabled
    wait_until(lambda: any(job["status"] == "processing" for job in slow_server.jobs()))
    assert run.running  # still going: the click did not wait for it
    panel.view.cancel_button.click()
    assert run.wait(30)


def test_progress_then_the_grid_reach_the_front_end_from_the_loop_thread(
    panel: Panel, recording_comm: type[RecordingComm]
) -> None:
    panel.view.generate_button.click()
    run = panel.runs[-1]
    assert run.wait(30)
    statuses = updates(panel.view.status, "value")
    progress = [i for i, text in enumerate(statuses) if "<code" in text]  # the live line
    summary = [i for i, text in enumerate(statuses) if "naive done" in text]
    assert progress and summary and max(progress) < summary[-1]
    assert updates(panel.view.bar, "value")[-1] == 1.0
    grid_updates = updates(panel.view.grid.box, "children")
    assert grid_updates and len(grid_updates[-1]) == 2  # two tiles, after the progress
    threads = {thread for thread, data in recording_comm.sent if "<code" in str(data)}
    assert threads == {"naive-nb-loop"}  # progress is written by the loop thread only
    assert panel.errors == []


def test_controls_follow_key_params_when_the_model_changes(panel: Panel) -> None:
    schnell = panel.catalog["fal-ai/flux/schnell"]
    taken = [key for key in schnell.key_params if key not in ("prompt", "seed")]
    assert list(panel.view.controls.specs) == taken
    steps = panel.view.controls.inputs["num_inference_steps"]
    low, high = steps_range("fal-ai/flux/schnell")
    assert (steps.min, steps.max, steps.value) == (low, high, 4)
    assert f"from {low} to {high}" in steps.tooltip and "default 4" in steps.tooltip
    panel.view.controls.inputs["image_size"].value = "portrait_4_3"
    old_widgets = list(panel.view.controls.inputs.values())

    panel.view.model.value = "fal-ai/recraft-v3"
    recraft = panel.catalog["fal-ai/recraft-v3"]
    assert list(panel.view.controls.specs) == [k for k in recraft.key_params if k != "prompt"]
    assert "num_inference_steps" not in panel.view.controls.inputs  # unsupported: absent
    assert panel.view.controls.inputs["image_size"].value == "portrait_4_3"  # carried over
    assert all(widget.comm is None for widget in old_widgets)  # the old controls are closed
    style = panel.view.controls.inputs["style"]
    assert "vector_illustration" in [value for _, value in style.options]

    panel.view.model.value = "fal-ai/flux/dev"
    steps = panel.view.controls.inputs["num_inference_steps"]
    assert (steps.min, steps.max) == steps_range("fal-ai/flux/dev")
    assert "not sent" in steps.tooltip  # FLUX Dev's default is not the contract's
    assert panel.errors == []


def test_cancel_during_a_long_job_cancels_it_on_the_server(
    slow_server: LocalServer, panel: Panel
) -> None:
    panel.view.generate_button.click()
    run = panel.runs[-1]
    wait_until(lambda: len(slow_server.jobs()) == 2 and run.handle is not None)
    wait_until(lambda: all(job["status"] == "processing" for job in slow_server.jobs()))
    panel.view.cancel_button.click()
    assert run.wait(30)
    assert [job["status"] for job in slow_server.jobs()] == ["cancelled", "cancelled"]
    assert run.state == "cancelled"
    assert run.outcome is not None and run.outcome.interrupted is not None
    report = run.outcome.interrupted
    submit = [report.submit.job_id] if report.submit is not None else []  # one cut short
    assert sorted([*report.cancelled, *submit]) == sorted(j["id"] for j in slow_server.jobs())
    for job in slow_server.jobs():  # each named in the panel's summary
        assert job["id"] in panel.view.status.value
    assert "Cancelled on the server: job" in panel.view.status.value
    assert not panel.view.generate_button.disabled and panel.view.cancel_button.disabled
    assert panel.errors == []


def test_cost_preview_follows_the_inputs_and_the_cap(session: Session) -> None:
    panel = Panel("a lighthouse", seeds="1-4", max_credits=1.0, session=session)
    try:
        wait_until(lambda: "4 images x 0.12 = 0.48 credits" in panel.view.cost.value)
        assert "($0.02)" in panel.view.cost.value  # the reply's credit value, not a constant
        assert not panel.view.generate_button.disabled
        panel.view.controls.inputs["num_images"].value = 2
        wait_until(lambda: "8 images x 0.12 = 0.96 credits" in panel.view.cost.value)
        panel.view.seeds.text.value = "1-10"
        over = "20 images x 0.12 = 2.4 credits ($0.12): over this panel"
        wait_until(lambda: over in panel.view.cost.value)
        assert panel.view.generate_button.disabled
        panel.view.model.value = "fal-ai/flux/dev"
        panel.view.seeds.text.value = "7"
        wait_until(lambda: "2 images x 1 = 2 credits" in panel.view.cost.value)
        assert panel.view.generate_button.disabled
        panel.view.controls.inputs["num_images"].value = 1
        wait_until(lambda: "1 image x 1 = 1 credits" in panel.view.cost.value)
        assert not panel.view.generate_button.disabled
        assert panel.errors == []
    finally:
        panel.close()


def test_a_run_over_the_cap_is_refused_before_anything_is_sent(
    local_server: LocalServer, session: Session
) -> None:
    panel = Panel("a lighthouse", seeds="1-4", max_credits=0.3, session=session)
    try:
        run = panel.generate()  # as a click would, before the preview has priced it
        assert run.wait(30)
        assert run.state == "refused"
        assert local_server.jobs() == []
        assert [(e.where, e.field) for e in panel.errors] == [("run", "seeds")]
        assert (
            "0.48 credits ($0.02): over this panel&#x27;s cap of 0.3"
            in panel.view.seeds.error.value
        )
    finally:
        panel.close()


def test_without_a_cap_of_its_own_the_panel_keeps_the_settings_caps(session: Session) -> None:
    from dataclasses import replace

    session.settings = replace(session.settings, confirm_images=32, confirm_credits=20.0)
    panel = Panel("a lighthouse", seeds="1-40", session=session)  # 4.8 credits, 40 images
    try:
        over = "40 images x 0.12 = 4.8 credits ($0.24): over the cap of 32 images a run"
        wait_until(lambda: over in panel.view.cost.value)
        assert panel.view.generate_button.disabled
        assert "confirm_images" in panel.view.cost.value  # how to raise it
        panel.view.seeds.text.value = "1-32"
        wait_until(lambda: "32 images x 0.12 = 3.84 credits" in panel.view.cost.value)
        assert not panel.view.generate_button.disabled
    finally:
        panel.close()


@pytest.mark.parametrize(
    "prompt",
    ["a lighthouse at dusk", 'a "quoted" word, and a # hash', "two lines\nof prompt"],
)
def test_copy_as_cell_round_trips_through_the_magic_parser(panel: Panel, prompt: str) -> None:
    panel.view.prompt.value = prompt
    panel.view.model.value = "fal-ai/flux/dev"
    panel.view.controls.inputs["guidance_scale"].value = 7.5
    panel.view.controls.inputs["enable_safety_checker"].value = False
    panel.view.seeds.text.value = "1-3, 9"
    cell = panel.cell_text
    assert cell is not None
    first, _, body = cell.partition("\n")
    if first.startswith("%%naive"):
        parsed = parse_line(first.removeprefix("%%naive"), body)
    else:
        parsed = parse_line(first.removeprefix("%naive "))
    assert parsed.request == panel.request
    assert panel.request.seeds == (1, 2, 3, 9)
    assert panel.request.params == {"guidance_scale": 7.5, "enable_safety_checker": False}


def test_random_seeds_are_drawn_once_and_shown_in_the_cell(panel: Panel) -> None:
    panel.view.seeds.text.value = "random, 5"
    seeds = panel.request.seeds
    assert len(seeds) == 2 and seeds[1] == 5
    assert panel.request.seeds == seeds  # the same at each reading...
    assert parse_line(panel.cell_text.removeprefix("%naive ")).request.seeds == seeds
    run = panel.generate()
    assert run.request.seeds == seeds  # ...and what the run asks for
    assert run.wait(30)
    assert panel.request.seeds != seeds  # the next run draws anew


def test_errors_in_callbacks_reach_the_sink_and_the_control(
    panel: Panel, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    panel.view.seeds.text.value = "1-x"
    assert [(e.where, e.field) for e in panel.errors] == [("seeds", "seeds")]
    assert "is not understood" in panel.view.seeds.error.value
    assert panel.cell_text is None
    panel.view.seeds.text.value = "4"
    assert panel.view.seeds.error.value == ""  # fixed: the line goes

    panel.view.prompt.value = ""
    panel.view.generate_button.click()
    assert panel.errors[-1].field == "prompt"
    assert panel.errors[-1].message == "Type a prompt first."
    assert panel.runs == []  # nothing was started, nothing sent

    panel.view.prompt.value = "a fox"
    monkeypatch.setattr(session, "plan", lambda request: 1 / 0)  # a bug behind a button
    panel.view.generate_button.click()
    last = panel.errors[-1]
    assert last.where == "generate" and isinstance(last.error, ZeroDivisionError)
    assert (
        "Internal error in the panel (generate): ZeroDivisionError" in panel.view.error_line.value
    )
    assert "Exception in callback" not in caplog.text  # not left to ipywidgets' logger
    assert "ZeroDivisionError" in caplog.text  # logged whole, with its traceback


def test_an_error_on_the_loop_thread_reaches_the_sink(
    panel: Panel, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(request: Any) -> Any:
        raise RuntimeError("pricing broke")

    monkeypatch.setattr(session, "quote", broken)
    panel.view.seeds.text.value = "1-3"
    wait_until(lambda: panel.errors)
    assert panel.errors[0].where == "cost preview"
    assert isinstance(panel.errors[0].error, RuntimeError)
    assert "pricing broke" in panel.view.error_line.value


def test_history_restores_every_control_and_its_own_grid(panel: Panel) -> None:
    panel.view.controls.inputs["num_inference_steps"].value = 6
    first = panel.generate()
    assert first.wait(30)
    first_tiles = list(first.tiles)
    panel.view.prompt.value = "a windmill"
    panel.view.model.value = "fal-ai/flux/dev"
    panel.view.seeds.text.value = "7"
    second = panel.generate()
    assert second.wait(30)
    assert [tile.seed for tile in second.tiles] == [7]
    assert [option[1] for option in panel.view.history.options] == [2, 1]

    panel.view.history.value = 1  # the user picks the first run
    assert panel.view.prompt.value == "a lighthouse at dusk"
    assert panel.view.model.value == "fal-ai/flux/schnell"
    assert panel.view.controls.inputs["num_inference_steps"].value == 6
    assert panel.view.seeds.text.value == "1, 2"
    assert panel.request == first.request
    assert len(panel.view.grid.box.children) == 2 and first.tiles == first_tiles
    assert [tile.seed for tile in second.tiles] == [7]  # never overwritten
    panel.view.history.value = 2
    assert panel.view.model.value == "fal-ai/flux/dev" and panel.view.seeds.text.value == "7"
    assert len(panel.view.grid.box.children) == 1
    assert panel.errors == []


def test_a_tile_reuses_its_seed_and_opens_the_viewer(panel: Panel, tmp_path: Path) -> None:
    run = panel.generate()
    assert run.wait(30)
    second = panel.view.grid.box.children[1]
    view, reuse = second.children[2].children
    reuse.click()
    assert panel.view.seeds.text.value == "2"
    view.click()
    viewer = panel.viewer
    assert viewer is not None and viewer.index == 1
    assert "<td" in viewer.info.value and run.tiles[1].record.job_id in viewer.info.value
    assert viewer.image.value[:2] == b"\xff\xd8"
    viewer.target.value = str(tmp_path / "copy.jpg")
    viewer.save_button.click()
    assert (tmp_path / "copy.jpg").read_bytes() == run.tiles[1].image.read_bytes()
    viewer.save_button.click()  # it is there now: refused, not overwritten
    assert "already exists" in viewer.status.value
    assert panel.errors == []


def test_the_record_is_the_magic_bundle_updated_from_a_background_thread(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import IPython.display

    from naive_nb.display.result import NaiveResult
    from naive_nb.notebook import notes
    from naive_nb.notebook.panel import record as record_module

    shown: list[tuple[str, str, Any]] = []  # (call, thread, kwargs)

    def display(*objs: Any, **kwargs: Any) -> None:
        shown.append(("display", threading.current_thread().name, (objs, kwargs)))

    def update_display(obj: Any, **kwargs: Any) -> None:
        shown.append(("update", threading.current_thread().name, (obj, kwargs)))

    monkeypatch.setattr(record_module, "in_ipython", lambda: True)  # as in a kernel
    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(IPython.display, "update_display", update_display)
    panel._ipython_display_()  # what the cell showing the panel does
    (_, _, (widget, options)), (_, _, (record, record_options)) = shown
    assert widget[0]["text/plain"] == PANEL_TEXT
    assert "application/vnd.jupyter.widget-view+json" in widget[0]
    assert record[0]["text/plain"] == EMPTY
    display_id = record_options["display_id"]

    run = panel.generate()
    assert run.wait(30)
    calls = shown[2:]
    assert [(call, thread.startswith("naive-nb-panel")) for call, thread, _ in calls] == [
        ("update", True)  # one update, from the worker: no display, no print from a thread
    ]
    data, options = calls[0][2]
    assert options["display_id"] == display_id
    magic_data, magic_metadata = NaiveResult(
        run.outcome, failure_text=notes.failed_job
    )._repr_mimebundle_()
    assert magic_data["text/html"] in data["text/html"]  # the same grid as %naive's
    assert html.escape(run.cell) in data["text/html"] and run.cell in data["text/plain"]
    assert options["metadata"]["naive"]["job_ids"] == magic_metadata["naive"]["job_ids"]
    assert options["metadata"]["naive_panel"]["runs"] == [magic_metadata["naive"]]


def test_close_releases_every_widget(session: Session) -> None:
    from ipywidgets.widgets.widget import _instances  # every open widget, by model id

    before = set(_instances)
    panel = Panel("a lighthouse", seeds="1-2", session=session)
    run = panel.generate()
    assert run.wait(30)
    panel.view.grid.box.children[0].children[2].children[0].click()  # a viewer
    panel.view.model.value = "fal-ai/flux/dev"  # controls made twice
    assert panel.viewer is not None and len(set(_instances) - before) > 40
    panel.close()
    assert set(_instances) == before


def test_a_failure_while_showing_the_results_is_reported_and_the_panel_stays_usable(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naive_nb.notebook.panel import following as following_module

    def gone(*args: Any) -> Any:
        raise FileNotFoundError("naive-results/x/1-seed1.jpg")

    monkeypatch.setattr(following_module, "tiles_of", gone)  # a file deleted from the store
    run = panel.generate()
    assert run.wait(30)
    assert [(e.where, type(e.error)) for e in panel.errors] == [("results", FileNotFoundError)]
    assert run.state == "failed" and "could not be shown" in panel.view.status.value
    assert not panel.view.generate_button.disabled and panel.view.cancel_button.disabled


def test_the_summary_of_a_cancelled_run_is_never_overwritten_by_cancelling(
    slow_server: LocalServer, panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel.view.generate_button.click()
    run = panel.runs[-1]
    wait_until(lambda: run.handle is not None and len(slow_server.jobs()) == 2)
    original = run.cancel

    def cancel_then_linger() -> None:  # the click handler is slow to go on: the run ends first
        original()
        assert run.wait(30)

    monkeypatch.setattr(run, "cancel", cancel_then_linger)
    panel.view.cancel_button.click()
    assert "Cancelled on the server: job" in panel.view.status.value
    assert panel.errors == []
