"""Running a planned set of jobs: cache first, journal before polling, store on completion.

The order of operations is the product's promise ("nothing paid is lost", "no paying twice"):

1. every request is looked up in the cache first (offline mode stops here on a miss, before any
   request is sent, for the whole sweep);
2. each job is submitted and its id written to the journal before anything polls it;
3. each job is waited for, its images downloaded at once (result URLs expire), stored with their
   provenance, and only then entered in the cache and closed in the journal.

A job that fails becomes a :class:`FailedJob` (a labelled blank tile) rather than stopping the
others. A ``KeyboardInterrupt`` while waiting cancels every job of the run still open on the
server (a further interrupt during the cancels does not stop them), and is re-raised as
:class:`RunInterrupted` saying what became of each job. One during a submit keeps the client's
account of the job that submit may have created (it cancels it and says so), and journals any job
it names.

The client's notices (why a call pauses: a rate limit, a retry) are reported as the current
:class:`ProgressState` with its ``notice`` set, until the next status update clears it.

Only seeded requests are cached: a request without a seed (a model that takes none) is random.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from naive_nb.errors import Interrupted
from naive_nb.run.cache import CacheMiss, RequestCache, request_key
from naive_nb.run.events import ProgressState
from naive_nb.run.journal import LOCAL_BACKEND, JobJournal
from naive_nb.run.records import JobRecord
from naive_nb.run.store import ImagePayload, ResultStore

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb._types import GeneratedImage, Job, Notice

LOCAL_ENGINE = "naive-nb local preview"
ProgressCallback = Callable[[ProgressState], None]


class JobClient(Protocol):
    """What the runner needs of :class:`naive_nb.Client`."""

    @property
    def base_url(self) -> str: ...

    def submit(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        on_submitted: Callable[[Job], object] | None = None,
        on_notice: Callable[[Notice], object] | None = None,
    ) -> Job: ...

    def wait(
        self,
        job: str | Job,
        *,
        timeout: float | None = ...,
        on_update: Callable[[Job], object] | None = None,
        on_notice: Callable[[Notice], object] | None = None,
    ) -> Job: ...

    def cancel(self, job_id: str) -> Job: ...

    def download(self, job: str | Job) -> list[GeneratedImage]: ...


@dataclass(frozen=True)
class PlannedJob:
    """One request of a run, complete and seeded, so its cache key is known before sending."""

    model: str
    input: dict[str, Any]

    @property
    def key(self) -> str:
        return request_key(self.model, self.input)

    @property
    def seed(self) -> int | None:
        seed = self.input.get("seed")
        return seed if isinstance(seed, int) else None


@dataclass(frozen=True)
class FailedJob:
    """A cell of a run that produced no image (failed, cancelled, timed out, lost)."""

    model: str
    input: dict[str, Any]
    message: str
    job_id: str | None = None
    #: the job did not fail: it is still running on the server (deadline passed, contact lost),
    #: may still be charged, and stays in the journal to be collected later
    still_running: bool = False

    @property
    def seed(self) -> int | None:
        seed = self.input.get("seed")
        return seed if isinstance(seed, int) else None

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "seed": self.seed,
            "job_id": self.job_id,
            "message": self.message,
            "still_running": self.still_running,
        }


@dataclass
class RunOutcome:
    records: list[JobRecord] = field(default_factory=list)
    failures: list[FailedJob] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def cached(self) -> int:
        return sum(1 for r in self.records if r.from_cache)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C / kernel interrupt during a run; the message says which jobs were cancelled."""


def plan(
    model: str,
    base_input: Mapping[str, Any],
    seeds: Sequence[int | None],
    axes: Mapping[str, Sequence[Any]] | None = None,
) -> list[PlannedJob]:
    """One job per seed and per combination of axis values (``None`` seed: a model without one).

    Inputs are complete, so each job's cache key is known before anything is sent.
    """
    combos: list[dict[str, Any]] = [{}]
    for key, values in (axes or {}).items():
        combos = [{**combo, key: value} for combo in combos for value in values]
    jobs = []
    for seed in seeds:
        for combo in combos:
            data = {**base_input, **combo}
            if seed is not None:
                data["seed"] = seed
            jobs.append(PlannedJob(model, data))
    return jobs


def backend_host(base_url: str) -> str:
    return urlsplit(base_url).netloc or base_url


def journal_backend(client: Any) -> str:
    """The backend a job id belongs to, as the journal records it.

    Every embedded server is one backend here: its jobs live in its memory and die with its
    kernel, so after a restart the new one answers for them (404: lost), whatever its port.
    """
    if getattr(client, "backend", None) == LOCAL_BACKEND:
        return LOCAL_BACKEND
    return backend_host(client.base_url)


def sentence(text: str) -> str:
    """``text`` ending in exactly one full stop (server messages may or may not bring one)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _is_local(job: Job) -> bool:
    return (job.result or {}).get("engine") == LOCAL_ENGINE


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class Runner:
    def __init__(
        self,
        client: JobClient,
        store: ResultStore,
        *,
        use_cache: bool = True,
        offline: bool = False,
        refresh: bool = False,
        timeout: float | None = 600.0,
        on_progress: ProgressCallback | None = None,
        downloader: Callable[[Job], Sequence[GeneratedImage]] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.cache = RequestCache(store)
        self.journal = JobJournal(store.root)
        self.use_cache = use_cache
        self.offline = offline
        self.refresh = refresh
        self.timeout = timeout
        self._report = on_progress or (lambda state: None)
        self._last = ProgressState("submitting", 0.0)
        self.downloader = downloader

    def on_progress(self, state: ProgressState) -> None:
        self._last = state
        self._report(state)

    def _notice(self, notice: Notice) -> None:
        """The client pauses (rate limit, retry): say why on the current state until the next
        status update, which carries no notice."""
        self.on_progress(replace(self._last, notice=str(notice)))

    # -- the cache ----------------------------------------------------------------------------
    def cached(self, jobs: Sequence[PlannedJob]) -> dict[str, JobRecord]:
        """Cached records by key; in offline mode a miss raises before anything is sent."""
        found: dict[str, JobRecord] = {}
        if self.use_cache and not self.refresh:
            for job in jobs:
                if job.seed is None:  # random: a new image each time, never served from disk
                    continue
                record = self.cache.get(job.key)
                if record is not None:
                    found[job.key] = replace(record, from_cache=True)
        if self.offline:
            for job in jobs:
                if job.key not in found:
                    raise CacheMiss(job.key, job.model, job.seed)
        return found

    # -- a run --------------------------------------------------------------------------------
    def run(self, jobs: Sequence[PlannedJob]) -> RunOutcome:
        start = time.monotonic()
        outcome = RunOutcome()
        hits = self.cached(jobs)
        todo = [job for job in jobs if job.key not in hits]
        total = len(todo)
        submitted: list[tuple[PlannedJob, Job]] = []
        done_ids: set[str] = set()
        account = ""  # the client's account of an interrupted submit
        try:
            for job in todo:
                # "submitting 2/4": nothing is done yet, so the bar stays at 0 until jobs finish
                label = f"submitting {len(submitted) + 1}/{total}" if total > 1 else "submitting"
                self.on_progress(ProgressState(label, 0.0, jobs_done=0, jobs_total=total))
                try:
                    accepted = self.client.submit(
                        job.model,
                        job.input,
                        on_submitted=self._journaller(job),
                        on_notice=self._notice,
                    )
                except KeyboardInterrupt as interrupt:
                    account = self._interrupted_submit(job, interrupt)
                    raise
                except Exception as error:
                    if not submitted:
                        raise  # nothing is running yet: the error is the whole story
                    outcome.failures.append(FailedJob(job.model, job.input, str(error)))
                    continue
                submitted.append((job, accepted))
            for index, (job, accepted) in enumerate(submitted):
                result = self._collect(job, accepted, index, len(submitted))
                done_ids.add(accepted.id)
                if isinstance(result, FailedJob):
                    outcome.failures.append(result)
                else:
                    outcome.records.append(result)
        except KeyboardInterrupt:
            # also mid-submission: the jobs already accepted must not run on unwatched
            open_jobs = [a.id for _, a in submitted if a.id not in done_ids]
            if account and not open_jobs:  # the client's account is the whole story
                raise RunInterrupted(account) from None
            message = self._cancel_all(open_jobs)
            if account:  # "Interrupted: ..." once, then what the client did about its submit
                tail = account.removeprefix("Interrupted: ")
                message = f"{message} {tail[:1].upper()}{tail[1:]}"
            raise RunInterrupted(message) from None
        outcome.records.extend(hits[job.key] for job in jobs if job.key in hits)
        order = {job.key: n for n, job in enumerate(jobs)}
        outcome.records.sort(key=lambda r: order.get(r.cache_key, len(order)))
        outcome.seconds = time.monotonic() - start
        return outcome

    def _interrupted_submit(self, job: PlannedJob, interrupt: KeyboardInterrupt) -> str:
        """The client's account of a submit cut short by Ctrl-C, worded for a notebook; a job it
        names is journalled (and closed there when it was cancelled)."""
        if not isinstance(interrupt, Interrupted):  # a bare interrupt: no account to keep
            return ""
        if interrupt.job_id is not None:
            self.journal.submitted(
                interrupt.job_id, job.model, job.input, job.key, journal_backend(self.client)
            )
            if interrupt.outcome == "cancelled":
                self.journal.finished(
                    interrupt.job_id, "cancelled", "interrupted during the submit"
                )
        return interrupted_account(interrupt)

    def _journaller(self, job: PlannedJob) -> Callable[[Job], None]:
        backend = journal_backend(self.client)

        def write(accepted: Job) -> None:
            self.journal.submitted(accepted.id, job.model, job.input, job.key, backend)

        return write

    def _progress(self, job: Job, done: int, total: int, accepted: Job | None = None) -> None:
        # status replies may omit the estimates the submit reply gave: keep showing those
        first = accepted or job
        self.on_progress(
            ProgressState(
                status=job.status,
                elapsed=0.0,
                job_id=job.id,
                progress=job.progress,
                estimated_seconds=job.estimated_seconds or first.estimated_seconds,
                estimated_credits=job.estimated_credits or first.estimated_credits,
                jobs_done=done,
                jobs_total=total,
            )
        )

    def _collect(
        self, job: PlannedJob, accepted: Job, index: int, total: int
    ) -> JobRecord | FailedJob:
        from naive_nb.errors import JobCancelled, JobFailed, NaiveError, WaitTimeout

        # Always the accepted Job, never its id: the client paces the first look from when it
        # accepted the job (`Job.accepted_at`), so a sweep's later jobs, accepted a while ago,
        # are looked at as soon as they are due, and no status request goes out at once. (A job
        # the client found in its job list instead carries no `accepted_at`; the client then
        # dates it by its `created_at`.) The client reports nothing before its first look:
        # show the accepted job meanwhile.
        self._progress(accepted, index, total, accepted)
        try:
            finished = self.client.wait(
                accepted,
                timeout=self.timeout,
                on_update=lambda j: self._progress(j, index, total, accepted),
                on_notice=self._notice,
            )
        except JobFailed as error:
            reason = error.server_message.rstrip().rstrip(".")
            self.journal.finished(accepted.id, "failed", reason)
            return FailedJob(
                job.model, job.input, f"job {accepted.id} failed: {reason}", accepted.id
            )
        except JobCancelled:
            self.journal.finished(accepted.id, "cancelled")
            return FailedJob(job.model, job.input, f"job {accepted.id} was cancelled", accepted.id)
        except WaitTimeout:
            return FailedJob(
                job.model,
                job.input,
                f"job {accepted.id} is still running on the server after the {self.timeout:g}s "
                f"deadline (--timeout); it may still be charged and is kept in the journal: "
                f"collect it with %naive resume {accepted.id} (or %naive get {accepted.id})",
                accepted.id,
                still_running=True,
            )
        except NaiveError as error:
            return FailedJob(
                job.model,
                job.input,
                f"lost contact while waiting for job {accepted.id} ({error}); it is kept in the "
                f"journal: collect it later with %naive resume {accepted.id}",
                accepted.id,
                still_running=True,
            )
        self.on_progress(
            ProgressState(
                "downloading",
                0.0,
                job_id=accepted.id,
                progress=100.0,
                estimated_seconds=accepted.estimated_seconds,
                estimated_credits=accepted.estimated_credits,
                jobs_done=index,
                jobs_total=total,
            )
        )
        try:
            return self.keep(job, finished)
        except Exception as error:
            return FailedJob(
                job.model,
                job.input,
                f"job {accepted.id} finished but its images could not be downloaded ({error}); "
                f"retry with %naive resume {accepted.id}",
                accepted.id,
            )

    def keep(self, job: PlannedJob, finished: Job) -> JobRecord:
        """Download a completed job's images, store them, enter them in the cache and journal."""
        images = self.download(finished)
        record = JobRecord(
            job_id=finished.id,
            model=job.model,
            input=job.input,
            cache_key=job.key,
            backend=backend_host(self.client.base_url),
            local_preview=_is_local(finished),
            credits_used=finished.credits_used,
            created=_iso(finished.created_at),
            completed=_iso(finished.completed_at),
        )
        payloads = [
            ImagePayload(
                data=image.data,
                content_type=_content_type(image),
                width=_size(image)[0],
                height=_size(image)[1],
                seed=image.seed if image.seed is not None else job.seed,
            )
            for image in images
        ]
        saved = self.store.save(record, payloads)
        if self.use_cache and job.seed is not None:  # unseeded: random, never served again
            self.cache.put(saved)
        self.journal.finished(finished.id, "collected")
        return saved

    def download(self, finished: Job) -> Sequence[GeneratedImage]:
        if self.downloader is not None:
            return self.downloader(finished)
        return self.client.download(finished)

    def _cancel_all(self, job_ids: Sequence[str]) -> str:
        """Cancel every open job of an interrupted run; say what became of each.

        Users press Ctrl-C again when the first one seems slow: a further interrupt during a
        cancel request retries that request once and goes on with the others, so no job is left
        running unwatched without the message (and the journal) saying so.
        """
        if not job_ids:
            return "Interrupted: no job was still running."
        cancelled: list[str] = []
        finished: list[str] = []
        failed: list[str] = []
        for job_id in job_ids:
            outcome: Job | str | None = None
            for _attempt in range(2):
                try:
                    outcome = self.client.cancel(job_id)
                    break
                except KeyboardInterrupt:
                    outcome = "interrupted again before the server answered"
                except Exception as error:
                    outcome = str(error)
                    break
            if isinstance(outcome, str) or outcome is None:
                failed.append(f"{job_id} ({sentence(outcome or 'no answer').rstrip('.')})")
            elif outcome.status == "cancelled":
                cancelled.append(job_id)
                self.journal.finished(job_id, "cancelled", "interrupted")
            else:  # it finished first: collectable (completed) or closed (failed)
                if outcome.status == "failed":
                    self.journal.finished(job_id, "failed", "finished before the cancel")
                finished.append(f"{job_id} ({outcome.status})")
        parts = []
        if cancelled:
            parts.append(
                f"Interrupted: cancelled job {', '.join(cancelled)} on the server "
                "(a job that had already started may still be charged)."
            )
        else:
            parts.append("Interrupted.")
        if finished:
            parts.append(
                f"Already finished, so not cancelled: {', '.join(finished)}; collect a completed "
                "one with %naive resume JOB_ID."
            )
        if failed:
            parts.append(
                f"Could not cancel {', '.join(failed)}: it may still run and be charged. It stays "
                "in the journal; cancel it with %naive cancel JOB_ID or collect it with "
                "%naive resume JOB_ID."
            )
        return " ".join(parts)


def interrupted_account(interrupt: Interrupted) -> str:
    """What an interrupted submit did, in a notebook's terms (``%naive ...``, not ``client...``)."""
    job, key = interrupt.job_id, interrupt.idempotency_key
    if interrupt.outcome == "cancelled":
        return (
            f"Interrupted: job {job} (created by the interrupted submit) was cancelled on the "
            f"server. If it had already started it may still finish and be charged; "
            f"%naive get {job} shows its final state."
        )
    if interrupt.outcome == "already_finished":
        return f"Interrupted: job {job} had already finished; collect it with %naive get {job}."
    if interrupt.outcome == "cancel_failed":
        return (
            f"Interrupted: cancelling job {job} failed; it may still run and be charged. "
            f"Retry %naive cancel {job}."
        )
    if interrupt.outcome == "not_sent":
        return "Interrupted before the submit was sent: no job was created."
    if interrupt.outcome == "not_created":
        return (
            "Interrupted while submitting: the server has no job for this submit, so none was "
            "created (%naive jobs would show one that arrived late)."
        )
    maybe = (
        f" Jobs that could be it: {', '.join(interrupt.candidates[:5])}."
        if interrupt.candidates
        else ""
    )
    return (
        f"Interrupted while submitting: could not tell whether a job was created (idempotency "
        f"key {key}).{maybe} Check %naive jobs and cancel yours with %naive cancel JOB_ID."
    )


def _size(image: GeneratedImage) -> tuple[int, int]:
    """The reply's width and height, or the file's own when the reply left them out."""
    if image.width and image.height:
        return image.width, image.height
    try:
        width, height = image.pil.size
    except Exception:  # not an image Pillow reads: the tile will say so
        return 0, 0
    return int(width), int(height)


def _content_type(image: GeneratedImage) -> str:
    if image.data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if image.data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    return (image.content_type or "application/octet-stream").split(";")[0]
