"""The run layer, the core: what a request becomes. No IPython, no front end's words.

A front end builds a :class:`Request`, and a :class:`Session` plans it (:class:`Plan`), runs it
(blocking, or started and cancellable) and returns an :class:`Outcome`; it also collects, resumes
and cancels single jobs. Beside it: the sweep syntax, the store, the request cache and the job
journal. The names upper layers use are exported here, loaded on first use (importing this
package stays cheap: ``%load_ext naive_nb`` must not import httpx, Pillow or Starlette).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naive_nb._lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover - type checkers see the lazily loaded names
    from naive_nb.run.bridge import CancelToken, RunHandle
    from naive_nb.run.events import JobProgress, RunProgress, Summary
    from naive_nb.run.outcome import Adopted, FailedJob, Outcome, Repair
    from naive_nb.run.plan import Plan, PlannedJob
    from naive_nb.run.problems import (
        CacheMiss,
        EmptyResult,
        InterruptReport,
        JobProblem,
        PlanProblem,
        RunInterrupted,
        RunProblem,
        RunRecordProblem,
        SweepError,
    )
    from naive_nb.run.reports import (
        CancelReport,
        JobsReport,
        JournalDamage,
        Quote,
        ResumeReport,
        ResumeRow,
        StatusReport,
    )
    from naive_nb.run.request import Axis, Request
    from naive_nb.run.session import Session
    from naive_nb.run.settings import Settings

_LAZY: dict[str, str] = {
    "CancelToken": "naive_nb.run.bridge",
    "RunHandle": "naive_nb.run.bridge",
    "JobProgress": "naive_nb.run.events",
    "RunProgress": "naive_nb.run.events",
    "Summary": "naive_nb.run.events",
    "Adopted": "naive_nb.run.outcome",
    "FailedJob": "naive_nb.run.outcome",
    "Outcome": "naive_nb.run.outcome",
    "Repair": "naive_nb.run.outcome",
    "Plan": "naive_nb.run.plan",
    "PlannedJob": "naive_nb.run.plan",
    "CacheMiss": "naive_nb.run.problems",
    "EmptyResult": "naive_nb.run.problems",
    "InterruptReport": "naive_nb.run.problems",
    "JobProblem": "naive_nb.run.problems",
    "PlanProblem": "naive_nb.run.problems",
    "RunInterrupted": "naive_nb.run.problems",
    "RunProblem": "naive_nb.run.problems",
    "RunRecordProblem": "naive_nb.run.problems",
    "SweepError": "naive_nb.run.problems",
    "CancelReport": "naive_nb.run.reports",
    "JobsReport": "naive_nb.run.reports",
    "JournalDamage": "naive_nb.run.reports",
    "Quote": "naive_nb.run.reports",
    "ResumeReport": "naive_nb.run.reports",
    "ResumeRow": "naive_nb.run.reports",
    "StatusReport": "naive_nb.run.reports",
    "Axis": "naive_nb.run.request",
    "Request": "naive_nb.run.request",
    "Session": "naive_nb.run.session",
    "Settings": "naive_nb.run.settings",
}

__all__ = [
    "Adopted",
    "Axis",
    "CacheMiss",
    "CancelReport",
    "CancelToken",
    "EmptyResult",
    "FailedJob",
    "InterruptReport",
    "JobProblem",
    "JobProgress",
    "JobsReport",
    "JournalDamage",
    "Outcome",
    "Plan",
    "PlanProblem",
    "PlannedJob",
    "Quote",
    "Repair",
    "Request",
    "ResumeReport",
    "ResumeRow",
    "RunHandle",
    "RunInterrupted",
    "RunProblem",
    "RunProgress",
    "RunRecordProblem",
    "Session",
    "Settings",
    "StatusReport",
    "Summary",
    "SweepError",
]


__getattr__, __dir__ = lazy_attributes("naive_nb.run", _LAZY, globals(), __all__)
