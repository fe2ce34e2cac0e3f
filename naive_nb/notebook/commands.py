"""One function per ``%naive`` subcommand, each a few lines over the :class:`Session`.

``run(front, command)`` routes a parsed line to its function. ``front`` is what the notebook
offers a command: the session, the progress view to use, the grid sizes, a way to show a grey
notice line and to bind a name in the user's namespace (the magic provides it). The words of
every table and message come from :mod:`naive_nb.notebook.notes`,
:mod:`naive_nb.notebook.messages` and :mod:`naive_nb.notebook.tables`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from naive_nb.notebook import notes, tables
from naive_nb.notebook.args import Command, help_text
from naive_nb.notebook.messages import job_problem, short_message
from naive_nb.notebook.sweeps import plan_line

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.display.grid import GridSizes
    from naive_nb.display.result import NaiveResult
    from naive_nb.notebook.progress import ProgressView
    from naive_nb.run import Outcome, Plan, Session

__all__ = ["COMMANDS", "Worded", "run"]


class Front(Protocol):
    """What a command needs of the notebook front end (the magic)."""

    @property
    def session(self) -> Session: ...

    def view(self) -> ProgressView: ...

    def sizes(self) -> GridSizes: ...

    def notice(self, text: str) -> None: ...

    def publish(self, name: str | None, value: Any) -> None: ...


class Worded(Exception):
    """An error already worded for the cell; ``__cause__`` is the error behind the words."""


def result_of(front: Front, outcome: Outcome) -> NaiveResult:
    from naive_nb.display.result import NaiveResult

    return NaiveResult(outcome, sizes=front.sizes(), failure_text=notes.failed_job)


def generate(front: Front, command: Command) -> NaiveResult:
    from naive_nb.run import RunInterrupted

    request, view = command.request, front.view()  # the notebook's part first, then down
    session = front.session
    plan = session.plan(request)
    confirm_sweep(front, plan, confirmed=command.generate.yes)
    try:
        outcome = session.run(plan, observer=view.update)
    except RunInterrupted as interrupt:
        view.finish(notes.stopped(interrupt.report, view.elapsed))
        raise Worded(notes.interrupted(interrupt.report)) from interrupt
    except Exception as error:
        if view.started:
            view.finish(notes.failed_summary(short_message(error) or repr(error), view.elapsed))
        raise
    except BaseException:  # a further Ctrl-C: the view's ticker must stop all the same
        view.finish(notes.failed_summary("interrupted", view.elapsed))
        raise
    if view.started or outcome.ok:  # a cache hit (nothing started) still says so
        view.finish(notes.summary(outcome))
    for repair in outcome.repairs:  # a damaged copy is never re-paid in silence
        front.notice(f"naive: {notes.repaired(repair)}")
    result = result_of(front, outcome)
    front.publish(command.generate.out, result)
    if outcome.failures:
        if outcome.records:
            _display(result)  # the grid with its failed tiles, before the cell fails
        raise Worded(notes.run_failed(outcome))
    return result


def confirm_sweep(front: Front, plan: Plan, *, confirmed: bool) -> None:
    """A sweep (more than one job) says what it will make, cost and take before it runs, and
    one above the settings' caps runs only when ``confirmed`` (else its ``PlanProblem``)."""
    if len(plan.jobs) < 2:
        return
    session = front.session
    quote = session.estimate(plan)
    problem = None if confirmed else session.over_cap(plan, quote)
    if problem is not None:
        raise problem
    front.notice(f"naive: {plan_line(plan, quote)}")


def get(front: Front, command: Command) -> NaiveResult:
    assert command.job_id is not None
    session = front.session
    for note in tables.journal_notes(session.journal_damage()):
        front.notice(f"naive: {note}")
    result = _collect(front, command.job_id)
    front.publish(command.generate.out, result)
    return result


def _collect(front: Front, job_id: str) -> NaiveResult:
    from naive_nb.run import JobProblem

    view = front.view()
    try:
        outcome = front.session.collect(job_id, observer=view.update)
    except JobProblem as problem:  # ended failed or cancelled: the client's error behind it
        if view.started:
            view.finish(notes.failed_summary(job_problem(problem), view.elapsed, job_id))
        raise Worded(job_problem(problem)) from problem.__cause__
    except BaseException as error:
        if view.started:
            view.finish(notes.failed_summary(type(error).__name__, view.elapsed, job_id))
        raise
    for repair in outcome.repairs:
        front.notice(f"naive: {notes.refetching(repair)}")
    for record in outcome.records:
        note = notes.record_source(record)
        if note:
            front.notice(f"naive: job {record.job_id[:8]}: {note}")
    if view.started:
        view.finish(notes.summary(outcome, "collected"))
    return result_of(front, outcome)


def resume(front: Front, command: Command) -> Any:
    """Collect journalled jobs one by one; one dead job never stops the others."""
    session = front.session
    for note in tables.journal_notes(session.journal_damage()):
        front.notice(f"naive: {note}")
    view = front.view()
    report = session.resume(command.job_id, observer=view.update)
    if view.started:
        view.finish(notes.summary_of_resume(report, view.elapsed))
    if not report.rows:
        print("Nothing to resume: every submitted job has been collected.")
        return None
    results = [result_of(front, outcome) for outcome in report.outcomes]
    if len(report.rows) == 1 and results:  # the result itself says it all (`r = ...` works)
        return results[0]
    if command.job_id:  # the one job asked for could not be collected: the cell fails
        row = report.rows[0]
        raise Worded(notes.resume_failed(row)) from row.error
    return Many([*results, tables.resume_table(report)])


def models(front: Front, command: Command) -> Any:
    return tables.models_table(front.session.models())


def price(front: Front, command: Command) -> Any:
    return tables.price_table(front.session.quote(command.request))


def jobs(front: Front, command: Command) -> Any:
    report = front.session.jobs(command.status, command.limit)
    return tables.jobs_table(report, command.status)


def status(front: Front, command: Command) -> Any:
    return tables.status_table(front.session.status())


def cancel(front: Front, command: Command) -> Any:
    assert command.job_id is not None
    return tables.cancel_table(front.session.cancel(command.job_id))


def login(front: Front, command: Command) -> None:
    import getpass

    from naive_nb.client import Secret

    typed = getpass.getpass("Naive API key (hidden; kept in this kernel's memory only): ")
    key = Secret(typed.strip())
    del typed
    if not key.reveal():
        raise Worded("No key entered; nothing changed.")
    front.session.login(key)
    print(f"Logged in: using {front.session.client.base_url} with the key you typed (not saved).")


def help(front: Front, command: Command) -> None:  # the subcommand's name
    print(help_text())


def panel(front: Front, command: Command) -> Any:
    from naive_nb.notebook.panel import Panel

    return Panel(session=front.session)


def view(front: Front, command: Command) -> Any:
    from naive_nb.notebook.viewer import view_named

    return view_named(command.variable)


def report(front: Front, command: Command) -> None:
    from naive_nb.notebook.study import LoadRunError
    from naive_nb.notebook.study import report as write

    assert command.path is not None
    if command.source is None and not front.session.history:
        raise Worded(
            "%naive report: this kernel session has run nothing yet, so there is nothing to "
            "report. Run a generation first, or report a saved notebook: "
            f"%naive report {command.path} --from NOTEBOOK.ipynb"
        )
    try:
        path = write(
            command.path, notebook=command.source, title=command.title, session=front.session
        )
    except LoadRunError as error:
        raise Worded(f"%naive report: {error.text}") from error
    size = path.stat().st_size
    front.notice(
        f"naive: wrote {path} ({size / 1000:,.0f} KB): one HTML file, images inline, no scripts; "
        "it opens offline in any browser and can be sent as it is."
    )


COMMANDS: dict[str, Callable[[Front, Command], Any]] = {
    "generate": generate,
    "get": get,
    "resume": resume,
    "models": models,
    "price": price,
    "jobs": jobs,
    "status": status,
    "cancel": cancel,
    "login": login,
    "help": help,
    "panel": panel,
    "view": view,
    "report": report,
}


def run(front: Front, command: Command) -> Any:
    return COMMANDS[command.name](front, command)


class Many:
    """Several results shown one after the other (``%naive resume`` of several jobs)."""

    def __init__(self, results: list[Any]) -> None:
        self.results = results

    def _ipython_display_(self) -> None:
        for result in self.results:
            _display(result)

    def __repr__(self) -> str:
        return "\n\n".join(repr(result) for result in self.results)


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]
