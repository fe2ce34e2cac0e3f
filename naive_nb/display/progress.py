"""Progress renderers: one run's state in, text and HTML out; and the summary that replaces them.

The live display shows the whole run. One job: its status and percent, elapsed time against the
server's estimate, the job id and the estimated credits. Several: how many are running, done,
waiting and failed ("4 running, 1 of 4 done") and the credits spent so far against the
estimate. The bar moves with the clock between polls and never claims a job done before it is
(:class:`naive_nb.run.events.RunProgress`). A run always ends in a :class:`Summary` rendered in
every mime type, so a notebook saved (or executed by nbclient) mid-way never shows a bar frozen
at 0 %. Failure is red, as in tqdm.notebook.
"""

from __future__ import annotations

import html
from typing import Any

from naive_nb.run.events import JobProgress, RunProgress, Summary

__all__ = [
    "progress_bundle",
    "progress_html",
    "progress_label_html",
    "progress_status",
    "progress_text",
    "summary_bundle",
    "summary_html",
    "summary_text",
]

GREEN = "#1a7f37"
RED = "#b21818"
GREY = "#57606a"
AMBER = "#9a6700"
BAR_WIDTH = 24  # characters of the text bar


def _short(job_id: str | None) -> str:
    return job_id[:8] if job_id else "-"


def _credits(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")  # 1.5, 8, 15


def _one_job(run: RunProgress, job: JobProgress) -> str:
    status = {"waiting": "submitting", "done": "completed", "cached": "from cache"}.get(
        job.status, job.status
    )
    if job.status == "processing" and (job.progress is not None or job.estimated_seconds):
        status = f"processing {job.fraction(run.elapsed) * 100:.0f}%"
    if run.notice:  # why nothing moves: a rate-limit pause, a retry
        status = f"{status} ({run.notice})"
    estimate = f" / ~{_seconds(job.estimated_seconds)}s" if job.estimated_seconds else ""
    return (
        f"{status} | {run.elapsed:.1f}s{estimate} | id {_short(job.job_id)} | "
        f"~{_credits(job.estimated_credits)} credits"
    )


def _many_jobs(run: RunProgress) -> str:
    counts = [f"{run.running} running", f"{run.done + run.cached} of {run.total} done"]
    if run.waiting:
        counts.append(f"{run.waiting} waiting")
    if run.failed:
        counts.append(f"{run.failed} failed")
    status = ", ".join(counts)
    if run.cached:
        status += f" ({run.cached} from cache)"
    if run.notice:
        status = f"{status} ({run.notice})"
    estimate = run.estimated_credits
    spent = f"{run.credits:g}" + (f" of ~{estimate:g}" if estimate is not None else "")
    return f"{status} | {run.elapsed:.1f}s | {spent} credits"


def progress_status(run: RunProgress) -> str:
    """The run's state in one line, without the bar."""
    if run.total == 1:
        return _one_job(run, run.jobs[0])
    return _many_jobs(run)


def progress_text(run: RunProgress) -> str:
    """One line, the same on a terminal and in ``text/plain``."""
    filled = int(run.fraction * BAR_WIDTH)  # rounded down: full only when the run is done
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"naive [{bar}] {progress_status(run)}"


def progress_label_html(run: RunProgress) -> str:
    """The state beside a bar (the HTML line's, and a widget bar's label)."""
    return f'<code style="color:{GREY}">{html.escape(progress_status(run))}</code>'


def progress_html(run: RunProgress) -> str:
    percent = int(run.fraction * 100)  # rounded down, as the bar: 100 only when done
    return (
        f'<div><progress value="{percent}" max="100" style="width:240px"></progress> '
        f"{progress_label_html(run)}</div>"
    )


def progress_bundle(run: RunProgress) -> dict[str, Any]:
    return {"text/plain": progress_text(run), "text/html": progress_html(run)}


def summary_text(summary: Summary) -> str:
    """One line: how the run ended. Counts are in images throughout; ``jobs`` lists the ids
    (left out when the run got no job id, e.g. interrupted before any was accepted)."""
    ids = ", ".join(_short(job_id) for job_id in summary.job_ids)
    jobs = f" | jobs {ids}" if ids else ""
    if not summary.ok:
        # a job past the deadline has not failed: it runs on, and may still be charged
        state = "STILL RUNNING" if summary.still_running else "FAILED"
        why = f" | {summary.message}" if summary.message else ""
        return f"naive {state} after {summary.seconds:.1f}s{jobs}{why}"
    images = "image" if summary.images == 1 else "images"
    if summary.cached and summary.cached == summary.images:
        # nothing was sent: say so instead of timing a disk read
        cost = f" ({summary.cached} from cache: 0 requests, 0 credits)"
    else:
        cached = f" ({summary.cached} from cache)" if summary.cached else ""
        cost = f"{cached} in {summary.seconds:.1f}s | {_credits(summary.credits)} credits"
    text = f"naive done: {summary.images} {images}{cost}{jobs}"
    return f"{text} | {summary.message}" if summary.message else text


def summary_html(summary: Summary) -> str:
    colour = GREEN if summary.ok else (AMBER if summary.still_running else RED)
    mark = "&#10003;" if summary.ok else ("&#8987;" if summary.still_running else "&#10007;")
    text = html.escape(summary_text(summary))
    return f'<div><span style="color:{colour}">{mark} {text}</span></div>'


def summary_bundle(summary: Summary) -> dict[str, Any]:
    return {"text/plain": summary_text(summary), "text/html": summary_html(summary)}
