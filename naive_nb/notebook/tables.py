"""The tables of ``%naive models / price / jobs / status / cancel / resume``, in a cell's words.

Each takes the core's structured report (:mod:`naive_nb.run.reports`) and returns a
:class:`naive_nb.display.table.Table`; none shows the API key (the reports never hold it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from naive_nb.client import LOCAL_BACKEND
from naive_nb.display.paths import shown_path
from naive_nb.display.table import Table
from naive_nb.notebook.notes import RESUME_WORDS, journal_damage, resume_detail

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import ModelInfo
    from naive_nb.run.reports import (
        CancelReport,
        JobsReport,
        JournalDamage,
        Quote,
        ResumeReport,
        StatusReport,
    )

__all__ = [
    "cancel_table",
    "jobs_table",
    "journal_notes",
    "models_table",
    "price_table",
    "resume_table",
    "status_table",
]


def journal_notes(damage: JournalDamage) -> list[str]:
    """A note on the journal's damaged lines (skipped; the rest still counts), if any."""
    return [journal_damage(damage.path, damage.lines)] if damage.lines else []


def models_table(models: Sequence[ModelInfo]) -> Table:
    rows = [
        (m.id + (" (default)" if m.default else ""), m.name, m.mode, ", ".join(m.key_params))
        for m in models
    ]
    return Table("Naive image models", ("id", "name", "mode", "parameters"), rows)


def price_table(quote: Quote) -> Table:
    """One row per model and image count (a model axis: several), then their total."""

    def usd(value: float | None) -> str:
        return f"${value:.4f}" if value is not None else "-"

    from naive_nb.run.reports import QuoteLine

    value = f"1 credit = ${quote.credit_value_usd:g}" if quote.credit_value_usd else ""
    lines = quote.lines or (
        QuoteLine(quote.model, quote.jobs, quote.num_images, quote.credits, quote.usd),
    )
    rows: list[tuple[str, int, int | str, str, str]] = [
        (line.model, line.jobs, line.num_images, f"{line.credits:g}", usd(line.usd))
        for line in lines
    ]
    if len(rows) > 1:
        rows.append(("total", quote.jobs, "", f"{quote.credits:g}", usd(quote.usd)))
    notes = [f"Estimate from the pricing endpoint; {value}. Cached re-runs cost nothing."]
    return Table("Price", ("model", "jobs", "images/job", "credits", "USD"), rows, notes)


def jobs_table(report: JobsReport, status: str | None) -> Table:
    rows = [
        (
            job.id,
            job.status,
            "" if job.progress is None else f"{job.progress:.0f}%",
            job.model or "",
            job.created_at.isoformat(timespec="seconds") if job.created_at else "",
        )
        for job in report.jobs
    ]
    notes = []
    if report.pending:
        ids = ", ".join(p.job_id for p in report.pending)
        notes.append(
            f"Not yet collected into {report.store.name}: {ids}. Run %naive resume to collect them."
        )
    notes.extend(journal_notes(report.damage))
    title = f"Jobs ({status or 'all statuses'}, newest first)"
    return Table(title, ("id", "status", "progress", "model", "created"), rows, notes)


def status_table(report: StatusReport) -> Table:
    from naive_nb.notebook.messages import short_message

    credits = report.credits
    local = report.backend == LOCAL_BACKEND
    if credits is not None:
        balance = f"{credits.get('balance')} credits ({credits.get('tier', '-')})"
        if local:  # the embedded server's ledger is a stand-in: nothing is paid
            balance += ", simulated by the local preview engine (no real credits)"
    else:
        error = report.credits_error
        why = (short_message(error) if error else None) or f"{type(error).__name__}: {error}"
        balance = f"unavailable ({why})"
    rows: list[tuple[str, object]] = [
        # no loopback port for the embedded server: this output may be saved, the port is not
        (
            "backend",
            "local preview engine (embedded in this kernel)"
            if local
            else f"{report.backend} at {report.base_url}",
        ),
        ("API key set", "yes" if report.key_set else "no"),
        ("balance", balance),
        ("naive-nb version", report.version),
        ("store", shown_path(report.store)),  # never a path of the machine that ran it
        ("cached requests", report.cached_requests),
        ("jobs not yet collected", report.pending),
        ("cache-only mode", "on" if report.cache_only else "off"),
    ]
    notes = []
    if credits is not None and credits.get("note"):  # why a balance is what it is (below zero)
        notes.append(f"Balance: {credits['note']}")
    notes.extend(journal_notes(report.damage))
    return Table("naive-nb status", ("", ""), rows, notes)


def cancel_table(report: CancelReport) -> Table:
    job = report.job
    if report.cancelled:
        note = "Cancelled (not charged unless the provider had already started it)."
    else:
        note = f"It had already finished ({job.status}), so nothing was cancelled."
    return Table(f"Job {job.id}", ("id", "status"), [(job.id, job.status)], [note])


def resume_table(report: ResumeReport) -> Table:
    rows = [(row.job_id, RESUME_WORDS[row.code], resume_detail(row)) for row in report.rows]
    collected = sum(1 for row in report.rows if row.code == "collected")
    closed = sum(
        1 for row in report.rows if row.code in ("failed", "cancelled", "lost", "not_ours")
    )
    notes = [f"{collected} collected, {closed} closed in the journal (not collectable)."]
    if collected + closed < len(rows):
        notes.append("The others stay journalled: %naive resume tries them again.")
    return Table("Resume", ("job", "outcome", "detail"), rows, notes)
