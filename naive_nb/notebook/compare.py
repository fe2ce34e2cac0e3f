"""``naive_nb.compare()``: a sweep from Python, the same run as ``%naive ... --vary``.

It builds the same :class:`naive_nb.run.Request` the magic's parser builds, hands it to the
kernel's session (the magic's settings when ``%load_ext naive_nb`` ran), and returns the same
:class:`naive_nb.display.result.NaiveResult`::

    r = naive_nb.compare(
        "a lighthouse at dusk",
        seeds=[1, 2],
        vary={"model": ["fal-ai/flux/schnell", "fal-ai/flux/dev"], "steps": [4, 8]},
        size="square",
    )
    r.select(model="fal-ai/flux/dev") ; r.to_pandas() ; r.grid(rows="model", cols="seed")

What cannot run is refused before anything is sent, as :class:`CompareError` (a ``ValueError``)
worded in Python's terms; the client's own ``ValidationError`` for a value no axis sets. A sweep
whose jobs partly failed returns its result (the failed cells are labelled tiles, and
``r.failures`` / ``r.to_pandas()`` say why); Ctrl-C cancels what still runs and raises
:class:`naive_nb.run.RunInterrupted`, whose ``outcome`` keeps what finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from naive_nb.notebook import current

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.display.grid import GridSizes
    from naive_nb.display.result import NaiveResult
    from naive_nb.notebook.progress import ProgressView
    from naive_nb.run import Plan, Request, Session

__all__ = ["CompareError", "build_request", "compare", "plan_words", "run_plan"]


class CompareError(ValueError):
    """A sweep refused before anything was sent; the message says what to change."""


def compare(
    prompt: str | Sequence[str] = "",
    *,
    seeds: int | str | Sequence[int | str] | None = None,
    vary: Mapping[str | tuple[str, ...], Sequence[Any] | str] | None = None,
    model: str | None = None,
    vary_seeds: str | Sequence[str] = (),
    confirm: bool = False,
    refresh: bool = False,
    cache_only: bool = False,
    timeout: float | None = None,
    **params: Any,
) -> NaiveResult:
    """Run a sweep and return its result (the same object ``%naive`` returns).

    ``prompt``: the prompt, or a list of prompts (an axis of its own). ``seeds``: one seed, a
    list (``-1`` or ``"random"``: a random seed, made concrete now), or a text in the sweep
    syntax (``"1-4"``); several seeds make the first axis, the same seeds in every column.
    ``vary``: the other axes in layout order (X across, Y down, Z one grid per value, more:
    several grids), each ``name: values``: a list, or a text in the sweep syntax
    (``"2-8 [4]"``, ``"1-10 (+2)"``). Names: ``model``, ``seed``, ``prompt`` (whole prompts),
    ``"prompt:dusk"`` (search/replace: the values replace "dusk"; list "dusk" itself to keep
    the prompt as written), any input key or its short name (``steps``, ``guidance``, ``size``,
    ``num``, ``strength``, ``style``...), ``"model+steps"`` with tuples, or any name with dicts
    (several keys per value). ``vary_seeds``: axes along which the seed changes too.
    ``confirm``: run a sweep above ``NaiveMagics.confirm_images`` / ``confirm_credits``.
    ``params``: fixed input values (``size="square"``, ``steps=4``, ``negative_prompt=...``).
    """
    from naive_nb.run import PlanProblem, SweepError

    front = _Front()
    try:
        request = build_request(
            prompt,
            seeds=seeds,
            vary=vary,
            model=model,
            vary_seeds=vary_seeds,
            refresh=refresh,
            cache_only=cache_only,
            timeout=timeout,
            params=params,
        )
        plan = front.session.plan(request)
        _confirm(front, plan, confirm)
    except SweepError as error:
        raise CompareError(plan_words(error)) from error
    except PlanProblem as problem:
        raise CompareError(plan_words(problem)) from problem
    return _run(front, plan)


def build_request(
    prompt: str | Sequence[str],
    *,
    seeds: int | str | Sequence[int | str] | None = None,
    vary: Mapping[str | tuple[str, ...], Sequence[Any] | str] | None = None,
    model: str | None = None,
    vary_seeds: str | Sequence[str] = (),
    refresh: bool = False,
    cache_only: bool = False,
    timeout: float | None = None,
    params: Mapping[str, Any] | None = None,
) -> Request:
    """The :class:`Request` that :func:`compare` runs (nothing is checked against a model yet;
    a list that cannot be read raises the run layer's ``SweepError``)."""
    from naive_nb.run import Request
    from naive_nb.run.axes import axis_from_values, key_of, sent_value
    from naive_nb.run.sweep import check_seeds, parse_seed_values

    axes = []
    text = ""
    if isinstance(prompt, str):
        text = prompt
    else:
        axes.append(axis_from_values("prompt", list(prompt)))
    seed_list: list[int] = []
    if isinstance(seeds, str):
        seed_list = parse_seed_values(seeds)
    elif isinstance(seeds, int):
        seed_list = [seeds]
    elif seeds is not None:
        seed_list = list(axis_from_values("seed", list(seeds)).values)
        check_seeds(seed_list, ", ".join(str(s) for s in seeds))
    for name, values in (vary or {}).items():
        axes.append(axis_from_values(name, values))
    fixed = {
        key_of(name): sent_value(key_of(name), value) for name, value in (params or {}).items()
    }
    names = (vary_seeds,) if isinstance(vary_seeds, str) else tuple(vary_seeds)
    return Request(
        prompt=text,
        model=model,
        params=fixed,
        seeds=tuple(seed_list),
        axes=tuple(axes),
        refresh=refresh,
        cache_only=cache_only,
        timeout=timeout,
        vary_seeds=names,
    )


def run_plan(plan: Plan, *, confirm: bool = False, session: Session | None = None) -> NaiveResult:
    """Run a plan made elsewhere (``load_run(...).rerun()``) as :func:`compare` runs its own:
    the plan line and the caps (``confirm``), progress, the result. ``session``: the kernel's
    when None."""
    from naive_nb.run import PlanProblem

    front = _Front(session)
    try:
        _confirm(front, plan, confirm)
    except PlanProblem as problem:
        raise CompareError(plan_words(problem)) from problem
    return _run(front, plan)


def plan_words(problem: Exception) -> str:
    """The words for a plan that cannot run, in Python's terms (``vary=``, ``seeds=``)."""
    from naive_nb.notebook.messages import plan_problem
    from naive_nb.notebook.sweeps import PYTHON, vary_problem
    from naive_nb.notebook.sweeps import plan_problem as sweep_problem
    from naive_nb.run import PlanProblem, SweepError

    if isinstance(problem, SweepError):
        if problem.detail.get("kind") == "axis":
            return vary_problem(problem, PYTHON)
        return problem.describe("seeds" if problem.field == "seeds" else str(problem.field))
    assert isinstance(problem, PlanProblem)
    worded = sweep_problem(problem, PYTHON)
    text = worded if worded is not None else plan_problem(problem)
    return f"{text} Nothing was sent."


def _confirm(front: _Front, plan: Plan, confirmed: bool) -> None:
    from naive_nb.notebook.commands import confirm_sweep

    confirm_sweep(front, plan, confirmed=confirmed)


def _run(front: _Front, plan: Plan) -> NaiveResult:
    from naive_nb.notebook import notes
    from naive_nb.notebook.commands import result_of
    from naive_nb.notebook.messages import short_message
    from naive_nb.run import RunInterrupted

    view = front.view()
    try:
        outcome = front.session.run(plan, observer=view.update)
    except RunInterrupted as interrupt:
        view.finish(notes.stopped(interrupt.report, view.elapsed))
        raise
    except Exception as error:
        if view.started:
            view.finish(notes.failed_summary(short_message(error) or repr(error), view.elapsed))
        raise
    except BaseException:
        view.finish(notes.failed_summary("interrupted", view.elapsed))
        raise
    if view.started or outcome.ok:
        view.finish(notes.summary(outcome))
    for repair in outcome.repairs:
        front.notice(f"naive: {notes.repaired(repair)}")
    if outcome.failures:
        front.notice(f"naive: {notes.run_failed(outcome)}")
    return result_of(front, outcome)


class _Front:
    """What a run needs of the notebook: the magic's when it is loaded (its settings, progress
    mode and grid sizes), else defaults (a text progress line outside Jupyter)."""

    def __init__(self, session: Session | None = None) -> None:
        self._magics = current.magics()
        self._session = session

    @property
    def session(self) -> Session:
        return self._session or current.session()

    def view(self) -> ProgressView:
        if self._magics is not None:
            return self._magics.view()
        from naive_nb.notebook.progress import ProgressView, detect_mode

        return ProgressView(detect_mode(_shell()))

    def sizes(self) -> GridSizes:
        if self._magics is not None:
            return self._magics.sizes()
        from naive_nb.display.grid import GridSizes

        return GridSizes()

    def notice(self, text: str) -> None:
        if _shell() is not None:
            from naive_nb.notebook.magics import show_notice

            show_notice(text)
        else:
            print(text)

    def publish(self, name: str | None, value: Any) -> None:
        """compare() binds nothing: its value is returned."""


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    return get_ipython()  # type: ignore[no-untyped-call]
