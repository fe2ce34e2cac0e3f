"""Planning a sweep without a server (issue 10): the value syntax, each AUTOMATIC1111 quirk it
fixes, seeds made concrete, and every refusal found before anything is sent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naive_nb.client import DOCUMENTED_MODELS, ModelInfo, validate_model
from naive_nb.run import PlanProblem, Request, Settings, SweepError
from naive_nb.run.axes import axis_from_spec, axis_from_values
from naive_nb.run.plan import MAX_JOBS, Plan, plan
from naive_nb.run.request import Axis
from naive_nb.run.sweep import parse_number_values

SCHNELL, DEV, PRO = "fal-ai/flux/schnell", "fal-ai/flux/dev", "fal-ai/flux-pro/v1.1"


class Catalog:
    """The served catalog as a test double: every call is counted (a call is a request)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, model: str) -> ModelInfo:
        self.calls.append(model)
        return validate_model(model, DOCUMENTED_MODELS)


def _plan(prompt: str, *specs: str, catalog: Catalog | None = None, **fields: Any) -> Plan:
    axes = tuple(axis_from_spec(spec, pick_random=lambda: 777) for spec in specs)
    request = Request(prompt, axes=axes, **fields)
    return plan(request, Settings(), catalog or Catalog(), pick_seed=lambda: 4242)


def _values(spec: str) -> tuple[Any, ...]:
    return axis_from_spec(spec).values


# -- the value syntax: each AUTOMATIC1111 quirk --
def test_a_step_without_a_sign_is_read_not_refused() -> None:
    # A1111's regex wants "(+2)": "1-10 (2)" is not a range there, int() fails, the run aborts
    assert _values("steps=1-10 (2)") == (1, 3, 5, 7, 9)
    assert _values("steps=1-10 (+2)") == (1, 3, 5, 7, 9)


def test_counting_down_keeps_the_end_point() -> None:
    # A1111: range(10, 1 + 1, -3) gives 10, 7, 4: the 1 on the step's grid is dropped
    assert _values("steps=10-1 (-3)") == (10, 7, 4, 1)
    assert _values("steps=10-1 (3)") == (10, 7, 4, 1)  # no sign: the way of the range
    assert _values("guidance=1-0 (-0.25)") == (1.0, 0.75, 0.5, 0.25, 0.0)


def test_n_values_on_integers_are_rounded_evenly_not_truncated() -> None:
    # A1111: int(x) for x in linspace(1, 10, 5) gives 1, 3, 5, 7, 10 (uneven gaps)
    assert _values("steps=1-10 [5]") == (1, 3, 6, 8, 10)
    assert _values("seed=0-100 [3]") == (0, 50, 100)


def test_decimal_ranges_are_exact_and_never_overshoot() -> None:
    # A1111: np.arange(0.1, 0.3 + 0.1, 0.1) gives 0.1, 0.2, 0.30000000000000004, 0.4
    values = _values("guidance=0.1-0.3 (+0.1)")
    assert values == (0.1, 0.2, 0.3)
    assert json.dumps(values) == "[0.1, 0.2, 0.3]"  # what is sent: no float noise
    assert _values("guidance=2-8 [4]") == (2.0, 4.0, 6.0, 8.0)
    assert json.dumps(_values("strength=0-1 [4]")) == "[0.0, 0.33, 0.67, 1.0]"
    assert parse_number_values("1-2 (+0.1)", field="x", integer=False, low=0, high=20)[-1] == 2.0


def test_a_step_that_misses_the_end_stops_before_it() -> None:
    assert _values("steps=1-10 (+4)") == (1, 5, 9)


def test_quoted_values_keep_their_commas() -> None:
    axis = axis_from_spec('prompt="a fox, at dusk", a whale ,"say \\"hi\\"", "a ""b"""')
    assert axis.values == ("a fox, at dusk", "a whale", 'say "hi"', 'a "b"')
    with pytest.raises(SweepError) as caught:
        axis_from_spec('prompt="open, quote')
    assert caught.value.code == "open_quote"


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("steps=1-10 (+0)", "zero_step"),
        ("steps=1-10 (-2)", "never_reaches"),
        ("steps=1-100000000", "too_many"),  # refused at once, never expanded
        ("steps=1.5,2", "not_integer"),
        ("steps=4,,8", "empty_item"),
        ("steps=4,8,4", "repeated"),
        ("steps=a,b", "not_understood"),
        ("steps", "no_name"),
        ("model+steps=fal-ai/flux/dev", "multi_parts"),
        ("prompt:dusk=dawn,red=blue", "two_terms"),
    ],
)
def test_a_list_that_cannot_be_read_is_refused_naming_the_item(spec: str, code: str) -> None:
    with pytest.raises(SweepError) as caught:
        axis_from_spec(spec)
    assert caught.value.code == code


def test_search_replace_in_both_of_its_forms() -> None:
    a1111 = axis_from_spec("prompt:dusk,dawn,noon")  # the first value is the term and stays
    pairs = axis_from_spec("prompt:dusk=dawn, dusk=noon")  # a=b pairs
    listed = axis_from_spec("prompt:dusk=dawn,noon")  # exactly the replacements listed
    assert (a1111.search, a1111.values) == ("dusk", ("dusk", "dawn", "noon"))
    assert (
        (pairs.search, pairs.values) == (listed.search, listed.values) == ("dusk", ("dawn", "noon"))
    )
    assert axis_from_values("prompt:dusk", ["dusk", "dawn", "noon"]) == a1111


def test_several_keys_per_value() -> None:
    typed = axis_from_spec("model+steps=fal-ai/flux/schnell+4, fal-ai/flux/dev+28")
    python = axis_from_values(("model", "steps"), [(SCHNELL, 4), (DEV, 28)])
    assert typed == python
    assert typed.values == (
        {"model": SCHNELL, "num_inference_steps": 4},
        {"model": DEV, "num_inference_steps": 28},
    )
    assert [typed.show(v) for v in typed.values] == ["flux/schnell, steps 4", "flux/dev, steps 28"]
    planned = _plan("a fox", "model+steps=fal-ai/flux/schnell+4,fal-ai/flux/dev+28")
    assert [(j.model, j.input["num_inference_steps"]) for j in planned.jobs] == [
        (SCHNELL, 4),
        (DEV, 28),
    ]


def test_headers_show_exact_values_and_short_model_names() -> None:
    guidance, models = axis_from_spec("guidance=0.1,3.5,2"), axis_from_spec(f"model={DEV},{PRO}")
    assert [guidance.show(v) for v in guidance.values] == ["0.1", "3.5", "2"]
    assert [models.show(v) for v in models.values] == ["flux/dev", "flux-pro/v1.1"]
    size = axis_from_spec("size=square,768x512")
    assert size.values == ("square", {"width": 768, "height": 512})
    assert size.show(size.values[1]) == "768x512"


# -- seeds --
def test_random_seeds_are_concrete_and_recorded_before_anything_is_sent() -> None:
    drawn = iter([11, 12])
    axis = axis_from_spec("seed=-1,5,random", pick_random=lambda: next(drawn))
    assert axis.values == (11, 5, 12)
    unseeded = _plan("a fox", f"model={SCHNELL},{DEV}")
    assert unseeded.chosen_seed == 4242
    assert {job.input["seed"] for job in unseeded.jobs} == {4242}  # one seed for every column
    assert unseeded.resolved.seeds == (4242,)  # the request as it ran gives the same jobs


def test_the_same_seeds_run_in_every_column() -> None:
    planned = _plan("a fox", f"model={SCHNELL},{DEV}", seeds=(1, 2, 3))
    assert [axis.label for axis in planned.axes] == ["seed", "model"]
    by_model: dict[str, list[int]] = {}
    for job in planned.jobs:
        by_model.setdefault(job.model, []).append(job.input["seed"])
    assert by_model == {SCHNELL: [1, 2, 3], DEV: [1, 2, 3]}


def test_vary_seeds_adds_each_axis_index_as_a1111_does() -> None:
    # PR #12180: seed + ix (+ iy * len(x), ...) along the axes named
    planned = _plan(
        "a red fox at dusk",
        "prompt:red=red,blue,grey",
        "prompt:dusk=dusk,dawn",
        seeds=(100,),
        vary_seeds=("prompt:red", "prompt:dusk"),
    )
    seeds = {job.coords: job.input["seed"] for job in planned.jobs}
    assert seeds[("red", "dusk")] == 100 and seeds[("blue", "dusk")] == 101
    assert seeds[("grey", "dusk")] == 102 and seeds[("red", "dawn")] == 103
    assert seeds[("grey", "dawn")] == 105
    with pytest.raises(PlanProblem) as caught:
        _plan("a fox", "steps=2,4", seeds=(1, 2), vary_seeds=("seed",))
    assert caught.value.code == "vary_seeds_axis"


# -- the grid: axes in layout order, identical cells --
def test_axes_keep_the_order_asked_and_any_number_of_them() -> None:
    planned = _plan(
        "a fox at dusk",
        "prompt:dusk=dusk,dawn",
        f"model={SCHNELL},{DEV}",
        "steps=2,4",
        "size=square,square_hd",
        seeds=(1, 2),
    )
    assert [axis.label for axis in planned.axes] == [
        "seed",
        "prompt:dusk",
        "model",
        "steps",
        "size",
    ]
    assert planned.shape == (2, 2, 2, 2, 2) and len(planned.jobs) == 32
    first = planned.jobs[0]
    assert first.coords == (1, "dusk", SCHNELL, 2, "square")


def test_identical_cells_are_one_job() -> None:
    # num_images 1 is written into every request anyway: both values ask for the same thing
    axis = axis_from_values("setup", [{"model": SCHNELL}, {"model": SCHNELL, "num_images": 1}])
    planned = plan(Request("a fox", seeds=(3,), axes=(axis,)), Settings(), Catalog())
    assert len(planned.jobs) == 2 and planned.unique == 1


# -- refusals: every value checked, zero requests --
def _refused(*specs: str, catalog: Catalog | None = None, **fields: Any) -> PlanProblem:
    prompt = fields.pop("prompt", "a lighthouse at dusk")
    with pytest.raises(PlanProblem) as caught:
        _plan(prompt, *specs, catalog=catalog, **fields)
    return caught.value


def test_a_value_out_of_one_models_range_names_that_model_and_value() -> None:
    catalog = Catalog()
    problem = _refused("steps=4,20", f"model={SCHNELL},{DEV}", catalog=catalog)
    (refusal,) = problem.detail["refusals"]
    assert (refusal.axis, refusal.shown, refusal.model) == ("steps", "20", SCHNELL)
    assert refusal.error.rule == "integer" and refusal.error.allowed == (1, 12)
    assert catalog.calls == []  # documented models: no request


def test_a_parameter_a_model_does_not_take_blames_the_model() -> None:
    problem = _refused(f"model={SCHNELL},{PRO}", params={"num_inference_steps": 4})
    (refusal,) = problem.detail["refusals"]
    assert (refusal.axis, refusal.value, refusal.error.rule) == ("model", PRO, "not_taken")


def test_an_unknown_model_of_an_axis_is_refused_by_axis_and_value() -> None:
    catalog = Catalog()
    problem = _refused(f"model={SCHNELL},fal-ai/flux/schnel", catalog=catalog)
    (refusal,) = problem.detail["refusals"]
    assert refusal.value == "fal-ai/flux/schnel" and refusal.error.rule == "unknown_model"
    assert catalog.calls == ["fal-ai/flux/schnel"]  # the served catalog: a read, no job


def test_every_refused_value_is_found_not_just_the_first() -> None:
    problem = _refused("steps=4,20,30", "prompt:noon=dawn", f"model={SCHNELL},{PRO}")
    found = {(r.axis, r.shown, r.code) for r in problem.detail["refusals"]}
    assert ("steps", "20", "invalid") in found and ("steps", "30", "invalid") in found
    assert ("prompt:noon", "noon", "search_not_found") in found
    assert ("model", PRO, "invalid") in found


def test_a_search_term_the_prompt_lacks_is_refused() -> None:
    problem = _refused("prompt:noon=dawn")
    (refusal,) = problem.detail["refusals"]
    assert refusal.code == "search_not_found" and refusal.detail["prompt"] == "a lighthouse at dusk"
    # A1111 also searches the negative prompt
    searched = _plan(
        "a fox",
        "prompt:blurry=sharp",
        model="fal-ai/stable-diffusion-v35-large",
        params={"negative_prompt": "blurry"},
    )
    assert searched.jobs[0].input["negative_prompt"] == "sharp"


def test_overlapping_search_replace_axes_are_refused() -> None:
    # A1111 #3808: two S/R axes over overlapping words give wrong prompts
    for specs in (
        ("prompt:red fox=blue fox", "prompt:fox at=cat at"),  # the words overlap
        ("prompt:red=dark red", "prompt:dark=light"),  # the first puts the second's term in
    ):
        problem = _refused(*specs, prompt="a red fox at dark")
        assert {r.code for r in problem.detail["refusals"]} == {"search_overlap"}
    fine = _plan("a red fox at dusk", "prompt:red=blue", "prompt:dusk=dawn")
    assert fine.jobs[0].input["prompt"] == "a blue fox at dawn"


@pytest.mark.parametrize(
    ("specs", "fields", "code"),
    [
        (("steps=2,4",), {"params": {"num_inference_steps": 4}}, "fixed_and_varied"),
        ((f"model={SCHNELL},{DEV}",), {"model": SCHNELL}, "fixed_and_varied"),
        (("seed=1,2",), {"seeds": (5,)}, "fixed_and_varied"),
        (("seed=1,2",), {"seeds": (5, 6)}, "seeds_twice"),
        (("steps=2,4", "model+steps=fal-ai/flux/dev+8"), {}, "key_twice"),
        (("steps=2,4",), {"vary_seeds": ("cfg",)}, "vary_seeds_axis"),
        (("steps=1-30", "seed=1-40"), {}, "too_many_jobs"),
    ],
)
def test_a_sweep_that_asks_twice_or_too_much_is_refused(
    specs: tuple[str, ...], fields: dict[str, Any], code: str
) -> None:
    assert _refused(*specs, **fields).code == code
    assert MAX_JOBS < 30 * 40


def test_a_value_no_axis_sets_is_refused_as_the_validator_refuses_it() -> None:
    from naive_nb.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        _plan("a fox", f"model={SCHNELL},{DEV}", params={"guidance_scale": 99.0})
    assert caught.value.field == "input.guidance_scale"


# -- the request as data --
def test_a_request_goes_to_json_and_back_exactly() -> None:
    axes = (
        axis_from_spec("guidance=0.1-0.3 (+0.1)"),
        axis_from_spec("prompt:dusk=dawn,noon"),
        axis_from_spec("model+steps=fal-ai/flux/schnell+4,fal-ai/flux/dev+28"),
        axis_from_spec("size=square,768x512"),
        Axis("seed", (1, 2), "seed"),
    )
    request = Request(
        "a lighthouse at dusk",
        model=None,
        params={"negative_prompt": "blurry", "num_images": 2},
        seeds=(),
        axes=axes,
        vary_seeds=("prompt:dusk",),
        refresh=True,
        timeout=30.0,
    )
    data = json.loads(json.dumps(request.to_json()))
    assert Request.from_json(data) == request
    assert json.dumps(data["axes"][0]["values"]) == "[0.1, 0.2, 0.3]"
