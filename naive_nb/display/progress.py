"""Progress renderers: one state in, text and HTML out; and the final summary that replaces them.

The live display shows status, progress, elapsed time against the server's estimate, the job id
and the estimated credits. It always ends in a :class:`Summary` rendered in every mime type, so a
notebook saved (or executed by nbclient) mid-way never shows a bar frozen at 0 %. Failure is red,
as in tqdm.notebook.
"""

from __future__ import annotations

import html
from typing import Any

from naive_nb.run.events import ProgressState, Summary

GREEN = "#1a7f37"
RED = "#b21818"
GREY = "#57606a"
AMBER = "#9a6700"
BAR_WIDTH = 24  # characters of the text bar


def _short(job_id: str | None) -> str:
    return job_id[:8] if job_id else "-"


def _credits(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def progress_text(state: ProgressState) -> str:
    """One line, the same on a terminal and in ``text/plain``."""
    filled = round(state.fraction * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    status = state.status
    if state.status == "processing" and (state.progress is not None or state.estimated_seconds):
        status = f"processing {state.job_fraction * 100:.0f}%"
    if state.notice:  # why nothing moves: a rate-limit pause, a retry
        status = f"{status} ({state.notice})"
    estimate = ""
    if state.estimated_seconds:
        shown = f"{state.estimated_seconds:.1f}".rstrip("0").rstrip(".")  # 1.5, 8, 15
        estimate = f" / ~{shown}s"
    sweep = state.jobs_total > 1 and not state.status.startswith("submitting")
    jobs = f" | job {state.jobs_done + 1}/{state.jobs_total}" if sweep else ""
    return (
        f"naive [{bar}] {status} | {state.elapsed:.1f}s{estimate}{jobs} | "
        f"id {_short(state.job_id)} | ~{_credits(state.estimated_credits)} credits"
    )


def progress_html(state: ProgressState) -> str:
    percent = round(state.fraction * 100)
    text = html.escape(progress_text(state).split("] ", 1)[-1])
    return (
        f'<div><progress value="{percent}" max="100" style="width:240px"></progress> '
        f'<code style="color:{GREY}">{text}</code></div>'
    )


def progress_bundle(state: ProgressState) -> dict[str, Any]:
    return {"text/plain": progress_text(state), "text/html": progress_html(state)}


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
