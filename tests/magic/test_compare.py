"""Sweeps from a cell and from ``naive_nb.compare()`` (issue 10): one run behind two front ends,
the plan line before the first request, refusals that send nothing, the cap and ``--yes``, and
the result as data."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.utils.capture import capture_output

import naive_nb
from naive_nb.client import AsyncClient, Job
from naive_nb.errors import ProviderError
from naive_nb.local import LocalServer
from naive_nb.notebook.args import parse_line
from naive_nb.notebook.cells import to_line
from naive_nb.notebook.compare import CompareError
from naive_nb.notebook.messages import NaiveUsageError
from tests.magic.conftest import TestingShell

SCHNELL, DEV = "fal-ai/flux/schnell", "fal-ai/flux/dev"
SWEEP = f"a lighthouse at dusk --seeds 1-2 --size square --vary model={SCHNELL},{DEV}"


def _notices(captured: Any) -> list[str]:
    return [str(out.data.get("text/plain", "")) for out in captured.outputs if not out.metadata]


def _sent(server: LocalServer, since: int) -> list[str]:
    """What was sent that costs or quotes: submits and price requests."""
    return [
        f"{r.method} {r.path}"
        for r in server.request_log[since:]
        if r.method == "POST" or "pricing" in r.path
    ]


def test_a_model_sweep_runs_the_same_seeds_in_every_column(online: TestingShell) -> None:
    with capture_output() as captured:
        result = online.run(f"%naive {SWEEP}")
    plan = result.outcome.plan
    assert [axis.label for axis in plan.axes] == ["seed", "model"]
    assert sorted((r.seed, r.model) for r in result.records) == [
        (1, DEV),
        (1, SCHNELL),
        (2, DEV),
        (2, SCHNELL),
    ]
    (line,) = [text for text in _notices(captured) if text.startswith("naive: ")]
    assert line.startswith("naive: 4 images over seed (2) x model (2), about ")
    assert "credits ($" in line and "seed: 1, 2 | model: flux/schnell, flux/dev" in line


def test_the_plan_line_prints_the_expanded_values(online: TestingShell) -> None:
    cell = (
        '%naive a lighthouse at dusk --seed 3 --size square --vary "guidance=2-8 [4]" '
        '--vary "prompt:dusk=dawn,noon" --vary steps=1,4 --yes'
    )
    with capture_output() as captured:
        result = online.run(cell)
    (line,) = [text for text in _notices(captured) if text.startswith("naive: ")]
    assert "16 images over guidance (4) x prompt:dusk (2) x steps (2)" in line
    assert "guidance: 2, 4, 6, 8 | prompt:dusk: dawn, noon | steps: 1, 4" in line
    prompts = {r.input["prompt"] for r in result.records}
    assert prompts == {"a lighthouse at dawn", "a lighthouse at noon"}
    assert {r.input["guidance_scale"] for r in result.records} == {2.0, 4.0, 6.0, 8.0}


@pytest.mark.parametrize(
    ("cell", "needles"),
    [
        (
            f"a fox --vary steps=4,20 --vary model={SCHNELL},{DEV}",
            [
                "steps=20: input.num_inference_steps (--steps) must be an integer from 1 to 12 "
                "for fal-ai/flux/schnell, got 20.",
                "Nothing was sent.",
            ],
        ),
        (
            f"a fox --vary model={SCHNELL},fal-ai/flux/schnel",
            ["model=fal-ai/flux/schnel: Unknown model", "did you mean fal-ai/flux/schnell?"],
        ),
        (
            f"a fox --steps 4 --vary model={SCHNELL},fal-ai/flux-pro/v1.1",
            ["model=fal-ai/flux-pro/v1.1: fal-ai/flux-pro/v1.1 does not take"],
        ),
        (
            "a lighthouse at noon --vary prompt:dusk=dawn",
            ["--vary prompt:dusk: 'dusk' is not in the prompt ('a lighthouse at noon')"],
        ),
        (
            '--vary "prompt:red fox=blue fox" --vary "prompt:fox at=cat at" a red fox at dusk',
            ["--vary prompt:red fox and --vary prompt:fox at overlap in the prompt"],
        ),
        ('a fox --vary "steps=1-10 (+0)"', ["--vary steps item '1-10 (+0)': the step must not"]),
        ("a fox --steps 4 --vary steps=1,2", ["given one value (--steps) and is also varied"]),
        ("a fox --seeds 1-2 --vary seed=3,4", ["Seeds are given twice (--seeds and --vary seed)"]),
        ("a fox --vary steps=1,2 --vary-seeds model", ["--vary-seeds names 'model'"]),
        ("a fox --vary steps=4,8,4", ["repeats a value"]),
    ],
)
def test_a_refused_sweep_names_the_axis_and_value_and_sends_nothing(
    online: TestingShell, local_server: LocalServer, cell: str, needles: list[str]
) -> None:
    before = len(local_server.request_log)
    with pytest.raises(NaiveUsageError) as caught:
        online.run(f"%naive {cell}")
    for needle in needles:
        assert needle in str(caught.value)
    assert _sent(local_server, before) == []


def test_a_sweep_above_the_cap_needs_yes(online: TestingShell, local_server: LocalServer) -> None:
    online.run("%config NaiveMagics.confirm_images = 4")
    before = len(local_server.request_log)
    with pytest.raises(NaiveUsageError) as caught:
        online.run("%naive a fox --seeds 1-3 --vary steps=1,2 --size square")
    text = str(caught.value)
    assert "This sweep makes 6 jobs (6 images; about 0.72 credits, $0.04)" in text
    assert "more than %config NaiveMagics.confirm_images = 4 images" in text
    assert "Add --yes" in text and "Nothing was sent." in text
    assert [s for s in _sent(local_server, before) if s.startswith("POST")] == []
    result = online.run("%naive a fox --seeds 1-3 --vary steps=1,2 --size square --yes")
    assert len(result.records) == 6
    online.run("%config NaiveMagics.confirm_images = None")
    online.run("%config NaiveMagics.confirm_credits = 0.5")
    with pytest.raises(NaiveUsageError, match=r"confirm_credits = 0\.5 credits"):
        online.run("%naive a fox --seeds 4-6 --vary steps=1,2 --size square")
    # what the store holds costs nothing: the same sweep again is under any cap
    assert online.run("%naive a fox --seeds 1-3 --vary steps=1,2 --size square").ok


def test_compare_is_the_same_run_as_the_magic(
    online: TestingShell, local_server: LocalServer
) -> None:
    cell = online.run(f"%naive {SWEEP}")
    posts = sum(1 for r in local_server.request_log if r.method == "POST")
    result = naive_nb.compare(
        "a lighthouse at dusk", seeds=[1, 2], vary={"model": [SCHNELL, DEV]}, size="square"
    )
    assert type(result) is type(cell)
    assert result.outcome.plan.request == cell.outcome.plan.request  # one Request type
    assert result.job_ids == cell.job_ids and result.outcome.cached == 4  # from the cache
    assert sum(1 for r in local_server.request_log if r.method == "POST") == posts


def test_compare_refuses_in_python_terms(online: TestingShell, local_server: LocalServer) -> None:
    before = len(local_server.request_log)
    with pytest.raises(CompareError) as caught:
        naive_nb.compare("a fox", vary={"steps": "1-10 (+0)"})
    assert str(caught.value).startswith("vary['steps'] item '1-10 (+0)'")
    with pytest.raises(CompareError) as refused:
        naive_nb.compare("a fox", vary={"steps": [4, 20], "model": [SCHNELL, DEV]})
    assert "steps=20: input.num_inference_steps must be an integer from 1 to 12" in str(
        refused.value
    )
    with pytest.raises(CompareError, match="Add confirm=True"):
        naive_nb.compare("a fox", seeds="1-8", vary={"steps": "1-5"}, size="square")
    assert _sent(local_server, before) == [
        "GET /v1/images/pricing?model=fal-ai%2Fflux%2Fschnell&num_images=1"
    ]  # the over-cap sweep was priced, and nothing was submitted


def test_the_result_selects_by_axis_values_and_becomes_a_table(online: TestingShell) -> None:
    result = online.run(f"%naive {SWEEP} --vary steps=2,4")
    dev = result.select(model="flux/dev", steps=4)
    assert [(r.model, r.input["num_inference_steps"]) for r in dev.records] == [(DEV, 4)] * 2
    assert dev.outcome.plan.shape == (2, 1, 1)
    assert result.select(seed=[1], model=DEV).seeds == [1, 1]
    with pytest.raises(LookupError, match="its values are 2, 4"):
        result.select(steps=3)
    table = result.to_pandas()
    assert len(table) == 8
    for column in ("seed", "model", "steps", "input", "job_id", "status", "error", "credits"):
        assert column in table.columns
    assert {"seconds", "path", "sha256", "width", "height"} <= set(table.columns)
    assert set(table["status"]) == {"done"} and table["credits"].sum() == pytest.approx(
        result.credits
    )
    assert (table["sha256"].str.len() == 64).all()


def test_vary_seeds_gives_each_prompt_its_own_seed(online: TestingShell) -> None:
    result = online.run(
        '%naive a red fox --seed 10 --size square --vary "prompt:red=red,blue,grey" '
        "--vary-seeds prompt:red"
    )
    assert [(r.input["prompt"], r.seed) for r in result.records] == [
        ("a red fox", 10),
        ("a blue fox", 11),
        ("a grey fox", 12),
    ]


def test_a_refused_submit_in_a_sweep_is_worded_for_the_cell(
    online: TestingShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = AsyncClient.submit
    calls: list[int] = []

    async def second_refused(self: AsyncClient, model: str, input: Any, **kwargs: Any) -> Job:
        calls.append(1)
        if len(calls) == 2:
            raise ProviderError("The provider rejected the request.", status=502, code="x")
        return await real(self, model, input, **kwargs)

    monkeypatch.setattr(AsyncClient, "submit", second_refused)
    with pytest.raises(NaiveUsageError) as caught:
        online.run("%naive a fox --seeds 1-2 --size square")
    text = str(caught.value)
    assert "1 of 2 jobs failed" in text and "%naive models" in text
    assert "client." not in text and "`" not in text


def test_a_sweep_line_reads_back_as_the_same_request() -> None:
    for line in (
        SWEEP,
        '"a fox, at dusk" --vary "prompt:dusk=dawn,noon" --vary "guidance=0.1-0.3 (+0.1)"',
        '--vary "prompt=\\"a fox, at dusk\\",a whale" --seeds 1-2',
        "a fox --vary model+steps=fal-ai/flux/schnell+4,fal-ai/flux/dev+28 "
        "--vary-seeds model+steps",
        "a fox --steps 2,4 --vary size=square,768x512",
    ):
        request = parse_line(line).request
        assert parse_line(to_line(request)).request == request, line


def test_help_lists_the_sweep_flags(ip: TestingShell) -> None:
    _, captured = ip.capture("%naive help")
    for flag in ("--vary NAME=VALUES", "--vary-seeds AXES", "--yes"):
        assert flag in captured.stdout


def test_price_of_a_model_sweep_has_a_line_per_model(online: TestingShell) -> None:
    table = online.run(f"%naive price --seeds 1-2 --vary model={SCHNELL},{DEV}")
    assert [row[:3] for row in table.rows] == [(SCHNELL, 2, 1), (DEV, 2, 1), ("total", 4, "")]
    assert float(table.rows[2][3]) == pytest.approx(
        float(table.rows[0][3]) + float(table.rows[1][3])
    )
