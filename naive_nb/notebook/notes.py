"""What a ``%naive`` user reads about a run: failed tiles, what was found on the way, interrupts.

The run layer reports with codes and fields (:class:`naive_nb.run.Outcome`,
:class:`naive_nb.run.FailedJob`, :class:`naive_nb.run.InterruptReport`); these functions choose
the words, in the cell's terms (``%naive resume JOB_ID``, ``--timeout``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naive_nb.display.paths import shown_path
from naive_nb.run.events import Summary

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.errors import Interrupted
    from naive_nb.run.outcome import Adopted, FailedJob, Outcome, Repair
    from naive_nb.run.problems import InterruptReport
    from naive_nb.run.records import JobRecord
    from naive_nb.run.reports import ResumeReport, ResumeRow
    from naive_nb.run.store import Damage


def listing(items: Sequence[str], shown: int = 5, sep: str = ", ") -> str:
    """``items`` joined, cut after ``shown`` with "and N more" so a cut list says it was cut."""
    head = sep.join(items[:shown])
    return f"{head}{sep}and {len(items) - shown} more" if len(items) > shown else head


def _seed(seeds: Sequence[int | None]) -> str:
    known = [str(seed) for seed in dict.fromkeys(seeds) if seed is not None]
    if not known:
        return "the stored copy"
    return f"the stored copy of seed{'s' if len(known) > 1 else ''} {', '.join(known)}"


def damage_found(damage: Damage, seed: int | None = None) -> str:
    """What is wrong with a stored copy, e.g. "the stored copy of seed 4 failed its checksum"."""
    seeds = damage.seeds or (seed,)
    what = _seed(seeds)
    job = damage.job_id[:8]
    if damage.problem == "checksum":
        return f"{what} (job {job}) failed its checksum ({shown_path(damage.path)})"
    if damage.problem == "file_missing":
        return f"{what} (job {job}) is missing a file ({shown_path(damage.path)})"
    if damage.problem == "manifest_unreadable":
        return (
            f"{_seed((seed,))} (job {job}) has an unreadable manifest ({shown_path(damage.path)})"
        )
    if damage.problem == "no_files":
        return f"{_seed((seed,))} (job {job}) lists no images ({shown_path(damage.path)})"
    return f"{_seed((seed,))} (job {job}) is gone from the store ({shown_path(damage.path.parent)})"


def repaired(repair: Repair) -> str:
    """A damaged copy and what the run did about it."""
    found = damage_found(repair.damage, repair.seed)
    if repair.refetched:
        return f"{found}; fetched it again from the server (no new job, no new charge)."
    return f"{found}; generated it again (a new job)."


def adopted(jobs: Sequence[Adopted]) -> str:
    """Requests answered by a job the run did not submit."""
    parts = []
    earlier = [a for a in jobs if a.reason == "pending"]
    found = [a for a in jobs if a.reason == "candidate"]
    if earlier:
        ids = listing([a.job_id[:8] for a in earlier])
        parts.append(
            f"still pending from an earlier run, so waited for instead of submitted again: "
            f"job {ids} (--refresh submits anew)"
        )
    if found:
        ids = listing([a.job_id[:8] for a in found])
        parts.append(f"a submit got no reply; collected the job it had created: {ids}")
    unverified = [a.job_id[:8] for a in jobs if not a.verified]
    if unverified:
        parts.append(
            f"not verified to be this request's (its record could not be checked), so not "
            f"cached: {listing(unverified)}"
        )
    return "; ".join(parts)


def journal_damage(path: Path, lines: Sequence[int]) -> str:
    numbers = listing([str(n) for n in lines])
    plural = "s" if len(lines) > 1 else ""
    return (
        f"{len(lines)} damaged line{plural} in {shown_path(path)} skipped "
        f"(line{plural} {numbers}); the rest of the journal is read as usual."
    )


def request_rebuilt(unknown: Sequence[str]) -> str:
    what = ", ".join(unknown)
    return (
        "this store never sent this job, so its request is rebuilt from the server's record "
        f"(unknown: {what}); it is stored, but never served from the cache."
    )


def claim_unverified() -> str:
    return (
        "found after a submit lost its reply, and its record cannot tie it to one request of "
        "this store (it reports no prompt or seed, or fits several); stored as unverified, never "
        "served from the cache."
    )


def sentence(text: str) -> str:
    """``text`` ending in exactly one full stop (server messages may or may not bring one)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def failed_job(failure: FailedJob) -> str:
    """What became of a job that produced no image (its tile, and the cell's error)."""
    job = failure.job_id
    code = failure.code
    if code == "failed":
        return f"job {job} failed: {failure.reason}"
    if code == "cancelled":
        return f"job {job} was cancelled"
    if code == "timeout":
        return (
            f"job {job} is still running on the server after the {failure.timeout or 0:g}s "
            f"deadline (--timeout); it may still be charged and is kept in the journal: "
            f"collect it with %naive resume {job} (or %naive get {job})"
        )
    if code == "lost_contact":
        return (
            f"lost contact while waiting for job {job} ({_what(failure)}); it is kept in the "
            f"journal: collect it later with %naive resume {job}"
        )
    if code == "no_images":
        return (
            f"job {job} completed (and may have been charged), but the server named no images "
            f"for it; nothing was stored and it stays in the journal: %naive resume {job} "
            "looks again"
        )
    if code == "download":
        return (
            f"job {job} finished but its images could not be downloaded ({_what(failure)}); "
            f"retry with %naive resume {job}"
        )
    if code == "outcome_unknown":
        return _unknown_outcome(failure.candidates)
    if code == "not_this_request":
        return (
            f"job {job}, found in the job list after this request's submit lost its reply, "
            "turned out to be another request's job (its prompt or seed differs); run the cell "
            "again to submit this one"
        )
    if code == "submit" and failure.error is not None:
        return _submit_refused(failure.error)
    return failure.reason or code


def _what(failure: FailedJob) -> str:
    """What went wrong with a job, briefly and without advice (the error behind it, worded for
    a cell)."""
    from naive_nb.notebook.client_errors import what_happened

    return what_happened(failure.error) if failure.error is not None else failure.reason


def _submit_refused(error: BaseException) -> str:
    """A submit the server refused in a sweep whose other jobs run on: the client's error in a
    cell's words (never its advice for the Python API)."""
    from naive_nb.notebook.client_errors import client_message, what_happened

    if isinstance(error, Exception):
        worded = client_message(error)
        if worded is not None:
            return f"the submit was refused: {worded}"
    return f"the submit was refused: {what_happened(error)}"


def _unknown_outcome(candidates: Sequence[str]) -> str:
    """A submit whose reply was lost, and no job could be tied to it."""
    if candidates:
        return (
            f"the submit got no reply and the server keeps no idempotency keys, so it is not "
            f"known whether it created a job; jobs that could be it: {listing(candidates)}, "
            f"journalled (not checked yet): %naive resume collects the one whose prompt and "
            f"seed match this request, %naive get JOB_ID shows one"
        )
    return (
        "the submit got no reply and the job list could not tell whether it created a job; "
        "%naive jobs lists recent jobs (%naive get JOB_ID collects one); running the cell "
        "again may pay twice"
    )


def run_failed(outcome: Outcome) -> str:
    """The cell's error for a run whose jobs did not all end in images."""
    total = len(outcome.plan.jobs) if outcome.plan is not None else len(outcome.job_ids)
    failed = [f for f in outcome.failures if not f.still_running]
    running = [f for f in outcome.failures if f.still_running]
    plural = "s" if total > 1 else ""
    parts = []
    if failed:
        reasons = listing([failed_job(f) for f in failed], 3, "; ")
        parts.append(f"{len(failed)} of {total} job{plural} failed: {reasons}")
    if running:  # each message says it is still running and how to collect it
        parts.append(listing([failed_job(f) for f in running], 3, "; "))
    return sentence(". ".join(parts))


def submit_account(account: Interrupted) -> str:
    """What an interrupted submit did, in a notebook's terms (``%naive ...``, not
    ``client...``, nor an idempotency key, which a cell cannot pass)."""
    job = account.job_id
    if account.outcome == "cancelled":
        return (
            f"Interrupted: job {job} (created by the interrupted submit) was cancelled on the "
            f"server. If it had already started it may still finish and be charged; "
            f"%naive get {job} shows its final state."
        )
    if account.outcome == "already_finished":
        return f"Interrupted: job {job} had already finished; collect it with %naive get {job}."
    if account.outcome == "cancel_failed":
        return (
            f"Interrupted: cancelling job {job} failed; it may still run and be charged. "
            f"Retry %naive cancel {job}."
        )
    if account.outcome == "not_sent":
        return "Interrupted before the submit was sent: no job was created."
    if account.outcome == "not_created":
        return (
            "Interrupted while submitting: the server has no job for this submit, so none was "
            "created (%naive jobs would show one that arrived late)."
        )
    if account.candidates:
        return (
            f"Interrupted while submitting: could not tell whether a job was created. Jobs that "
            f"could be it: {listing(list(account.candidates))} (journalled: %naive resume "
            "collects the one that matches this request; %naive cancel JOB_ID stops one)."
        )
    return (
        "Interrupted while submitting: could not tell whether a job was created. "
        "%naive jobs lists recent jobs: %naive cancel JOB_ID stops yours, or %naive get JOB_ID "
        "collects it."
    )


def interrupted(report: InterruptReport) -> str:
    """What a stopped run did about each job it knew of."""
    if report.submit is not None and not (
        report.cancelled or report.finished or report.cancel_failed
    ):
        return submit_account(report.submit)  # the client's account is the whole story
    if not (report.cancelled or report.finished or report.cancel_failed):
        return "Interrupted: no job was still running."
    parts = []
    if report.cancelled:
        parts.append(
            f"Interrupted: cancelled job {', '.join(report.cancelled)} on the server "
            "(a job that had already started may still be charged)."
        )
    else:
        parts.append("Interrupted.")
    if report.submit is not None:  # "Interrupted: ..." once, then what the submit came to
        tail = submit_account(report.submit).removeprefix("Interrupted: ")
        parts.append(f"{tail[:1].upper()}{tail[1:]}")
    if report.finished:
        shown = ", ".join(f"{job} ({status})" for job, status in report.finished)
        parts.append(
            f"Already finished, so not cancelled: {shown}; collect a completed one with "
            "%naive resume JOB_ID."
        )
    if report.cancel_failed:
        from naive_nb.notebook.client_errors import what_happened

        shown = ", ".join(f"{job} ({what_happened(why)})" for job, why in report.cancel_failed)
        parts.append(
            f"Could not cancel {shown}: it may still run and be charged. It stays in the "
            "journal; cancel it with %naive cancel JOB_ID or collect it with "
            "%naive resume JOB_ID."
        )
    return " ".join(parts)


# -- summaries: the line a progress display ends in --------------------------------------------
def summary(outcome: Outcome, note: str = "") -> Summary:
    """How a run ended; counts are in images, as the summary's other counts are."""
    notes = [note]
    plan = outcome.plan
    if plan is not None and plan.chosen_seed is not None:
        notes.append(f"no seed given, so seed {plan.chosen_seed} was chosen")
    if outcome.adopted:
        notes.append(adopted(outcome.adopted))
    failures = [failed_job(f) for f in outcome.failures]
    return Summary(
        ok=not outcome.failures,
        seconds=outcome.seconds,
        images=sum(len(r.files) for r in outcome.records),
        credits=outcome.credits,
        job_ids=tuple(outcome.job_ids),
        cached=outcome.cached_images,
        message="; ".join(filter(None, notes)) if not failures else listing(failures, 2, "; "),
        still_running=bool(failures) and all(f.still_running for f in outcome.failures),
    )


def failed_summary(message: str, seconds: float, job_id: str | None = None) -> Summary:
    return Summary(ok=False, seconds=seconds, job_ids=(job_id,) if job_id else (), message=message)


def stopped(report: InterruptReport, seconds: float) -> Summary:
    return Summary(ok=False, seconds=seconds, message=interrupted(report))


def summary_of_resume(report: ResumeReport, seconds: float) -> Summary:
    collected = [row for row in report.rows if row.code == "collected"]
    images = sum(row.detail.get("images", 0) for row in collected)
    ids = tuple(row.job_id for row in collected)
    # what the collected jobs were charged (a job that ran past its deadline was still paid)
    credits = sum(row.outcome.credits for row in collected if row.outcome is not None)
    return Summary(
        ok=True, seconds=seconds, images=images, credits=credits, job_ids=ids, message="collected"
    )


# -- collecting one job ---------------------------------------------------------------------
def refetching(repair: Repair) -> str:
    return f"{damage_found(repair.damage, repair.seed)}; fetched it again from the server."


def record_source(record: JobRecord) -> str:
    """What to say of a record whose request this store did not send (else nothing)."""
    if record.request_source == "reconstructed":
        return request_rebuilt(record.unknown)
    if record.request_source == "unverified":
        return claim_unverified()
    return ""


#: what each resume outcome is called in its table
RESUME_WORDS = {
    "collected": "collected",
    "skipped": "skipped",
    "failed": "failed",
    "cancelled": "cancelled",
    "not_ours": "not ours",
    "lost": "lost",
    "still_running": "still running",
    "not_collected": "not collected",
    "not_tried": "not tried",
}


def resume_detail(row: ResumeRow) -> str:
    """The detail column of one resumed job."""
    from naive_nb.notebook.messages import short_message

    detail = row.detail
    if row.code == "collected":
        images = detail.get("images", 0)
        return f"{images} image{'s' if images != 1 else ''}"
    if row.code == "skipped":
        return (
            f"sent to {detail['backend']}, and this kernel uses {detail['here']}: point naive-nb "
            "at that backend to collect it (it stays in the journal)"
        )
    if row.code in ("failed", "cancelled"):
        return str(detail.get("reason", ""))
    if row.code == "not_ours":
        from naive_nb.notebook.messages import not_ours

        return not_ours(row.job_id)
    if row.code == "lost":
        return f"{detail['here']} does not know this job (any more)"
    if row.code == "still_running":
        return "past the deadline; still journalled: try later"
    if row.code == "not_tried":
        return "server unreachable"
    error = row.error
    if error is None:
        return ""
    return short_message(error) or f"{type(error).__name__}: {error}"


def resume_failed(row: ResumeRow) -> str:
    """The cell's error when the one job asked for could not be collected."""
    detail = resume_detail(row)
    return sentence(f"Job {row.job_id}: {RESUME_WORDS[row.code]}{', ' + detail if detail else ''}")
