"""Running a planned set of jobs: cache first, journal before polling, store on completion.

The order of operations is the product's promise ("nothing paid is lost", "no paying twice"):

1. every request is looked up in the cache first (offline mode stops here on a miss, before any
   request is sent, for the whole sweep); a stored copy found damaged is fetched again from its
   job on the server when that still has it, and run again only when not (:class:`Repair`);
2. a request whose job is still pending in the journal (an earlier run passed its deadline, or
   the kernel died before ``%naive resume``) is waited for, not submitted again
   (:class:`Adopted`); only ``refresh`` submits anew;
3. each other job is submitted and its id written to the journal before anything polls it; when
   the submit's reply was lost and the client names candidate jobs instead, each candidate is
   journalled as a claim first, then the one whose own record matches the request is adopted;
4. each job is waited for, its images downloaded at once (result URLs expire), stored with their
   provenance, and only then entered in the cache and closed in the journal. A job with no
   images is never stored, cached or closed: it stays journalled for a later look.

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

from naive_nb.errors import Interrupted, NotFoundError, SubmissionOutcomeUnknown
from naive_nb.run.cache import CacheMiss, RequestCache, request_key
from naive_nb.run.events import ProgressState
from naive_nb.run.journal import LOCAL_BACKEND, Claim, JobJournal, PendingJob
from naive_nb.run.params import pixel_size
from naive_nb.run.records import JobRecord
from naive_nb.run.store import Damage, EmptyResult, ImagePayload, ResultStore

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client._types import GeneratedImage, Job, Notice

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

    def get(self, job_id: str) -> Job: ...

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
    #: what happened: ``failed``, ``cancelled``, ``timeout``, ``lost_contact``, ``no_images``
    #: (completed, but no image could be stored: still journalled), ``download``,
    #: ``submit`` (refused), ``outcome_unknown`` (a lost reply: ``candidates`` are journalled),
    #: ``not_this_request`` (the candidate adopted turned out to be another request's job)
    code: str = "failed"
    candidates: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class Adopted:
    """A request of the run answered by a job the run did not submit.

    ``reason``: ``pending`` (an earlier run's job, still pending in the journal), or
    ``candidate`` (this run's submit lost its reply, and this job in the job list has the
    request's own prompt and seed, or could not yet be checked: ``verified``).
    """

    job_id: str
    seed: int | None
    reason: str
    verified: bool = True


@dataclass(frozen=True)
class Repair:
    """A damaged stored copy of one of the run's requests, and what became of it: fetched again
    from its job on the server (``refetched``: no new job, no new charge), or run again."""

    damage: Damage
    seed: int | None
    refetched: bool


@dataclass
class RunOutcome:
    records: list[JobRecord] = field(default_factory=list)
    failures: list[FailedJob] = field(default_factory=list)
    seconds: float = 0.0
    adopted: list[Adopted] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)

    @property
    def cached(self) -> int:
        """Jobs served from the store without a new job."""
        return sum(1 for r in self.records if r.from_cache)

    @property
    def cached_images(self) -> int:
        return sum(len(r.files) for r in self.records if r.from_cache)


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
        #: what :meth:`cached` found wrong with the stored copy of a request, by request key
        self.damage: dict[str, Damage] = {}
        # adopted claims whose record must still be matched to the request once finished, and
        # the other unfinished claims on the same request, to try if the first is another's
        self._unverified: dict[str, PendingJob] = {}
        self._alternatives: dict[str, list[Job]] = {}

    def on_progress(self, state: ProgressState) -> None:
        self._last = state
        self._report(state)

    def _notice(self, notice: Notice) -> None:
        """The client pauses (rate limit, retry): say why on the current state until the next
        status update, which carries no notice."""
        self.on_progress(replace(self._last, notice=str(notice)))

    # -- the cache ----------------------------------------------------------------------------
    def cached(self, jobs: Sequence[PlannedJob]) -> dict[str, JobRecord]:
        """Cached records by key; in offline mode a miss raises before anything is sent.

        A damaged stored copy is a miss, never a hit; what was wrong is kept in :attr:`damage`
        (and an offline miss names it).
        """
        found: dict[str, JobRecord] = {}
        if self.use_cache and not self.refresh:
            for job in jobs:
                if job.seed is None:  # random: a new image each time, never served from disk
                    continue
                lookup = self.cache.lookup(job.key)
                if lookup.record is not None:
                    found[job.key] = replace(lookup.record, from_cache=True)
                    self.damage.pop(job.key, None)
                elif lookup.damage is not None:
                    self.damage[job.key] = lookup.damage
        if self.offline:
            for job in jobs:
                if job.key not in found:
                    raise CacheMiss(job.key, job.model, job.seed, self.damage.get(job.key))
        return found

    def _repair(self, job: PlannedJob, outcome: RunOutcome) -> JobRecord | None:
        """A damaged stored copy of ``job``: fetched again from its job on the server when that
        still has it (no new job, no charge); None when it must be run again."""
        damage = self.damage.get(job.key)
        if damage is None:
            return None
        stored_on = damage.record.backend if damage.record is not None else None
        record: JobRecord | None = None
        if stored_on in (None, "", backend_host(self.client.base_url)):
            try:
                current = self.client.get(damage.job_id)
                if current.status == "completed":
                    record = replace(self.keep(job, current), from_cache=True)
            except Exception:  # gone (404, expired files) or unreachable: run it again
                record = None
        outcome.repairs.append(Repair(damage, job.seed, refetched=record is not None))
        return record

    # -- a run --------------------------------------------------------------------------------
    def run(self, jobs: Sequence[PlannedJob]) -> RunOutcome:
        start = time.monotonic()
        outcome = RunOutcome()
        hits = self.cached(jobs)
        for job in jobs:
            if job.key not in hits and job.key in self.damage:
                repaired = self._repair(job, outcome)
                if repaired is not None:
                    hits[job.key] = repaired
        todo = [job for job in jobs if job.key not in hits]
        total = len(todo)
        submitted: list[tuple[PlannedJob, Job]] = []
        done_ids: set[str] = set()
        account = ""  # the client's account of an interrupted submit
        pending = self._pending_by_key() if todo else {}
        try:
            for job in todo:
                # "submitting 2/4": nothing is done yet, so the bar stays at 0 until jobs finish
                label = f"submitting {len(submitted) + 1}/{total}" if total > 1 else "submitting"
                self.on_progress(ProgressState(label, 0.0, jobs_done=0, jobs_total=total))
                mine = {accepted.id for _, accepted in submitted}
                try:
                    adopted = self._adopt(job, pending.get(job.key, []), mine)
                    if adopted is not None:
                        outcome.adopted.append(adopted[1])
                        submitted.append((job, adopted[0]))
                        continue
                    accepted = self.client.submit(
                        job.model,
                        job.input,
                        on_submitted=self._journaller(job),
                        on_notice=self._notice,
                    )
                except KeyboardInterrupt as interrupt:
                    account = self._interrupted_submit(job, interrupt)
                    raise
                except SubmissionOutcomeUnknown as unknown:
                    # every job it names is journalled before anything else happens
                    self._claim(job, [c.id for c in unknown.candidates])
                    pending = self._pending_by_key()
                    adopted = self._adopt(job, pending.get(job.key, []), mine, "candidate")
                    if adopted is not None:
                        outcome.adopted.append(adopted[1])
                        submitted.append((job, adopted[0]))
                        continue
                    left = {p.job_id for p in self.journal.pending()}
                    named = [c.id for c in unknown.candidates if c.id in left]
                    outcome.failures.append(_unknown_outcome(job, named))
                    continue
                except Exception as error:
                    if not submitted:
                        raise  # nothing is running yet: the error is the whole story
                    outcome.failures.append(
                        FailedJob(job.model, job.input, str(error), code="submit")
                    )
                    continue
                submitted.append((job, accepted))
            for index, (job, accepted) in enumerate(submitted):
                result = self._collect(job, accepted, index, len(submitted))
                for tried in self._alternatives.pop(accepted.id, []):
                    if not (isinstance(result, FailedJob) and result.code == "not_this_request"):
                        break
                    result = self._collect(job, tried, index, len(submitted))
                done_ids.add(accepted.id)
                if isinstance(result, FailedJob):
                    outcome.failures.append(result)
                else:
                    outcome.records.append(result)
                    _settle_adoption(outcome, accepted.id, result)
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

    # -- jobs this run did not submit -----------------------------------------------------------
    def _pending_by_key(self) -> dict[str, list[PendingJob]]:
        """Journalled jobs still pending on this backend, by the request keys they may answer;
        a job this store submitted comes before a claim."""
        if self.refresh:
            return {}
        here = journal_backend(self.client)
        found: dict[str, list[PendingJob]] = {}
        for entry in sorted(self.journal.pending(), key=lambda p: not p.verified):
            if entry.backend not in (None, here):
                continue  # another server's id means nothing here
            for claim in entry.requests:
                if claim.cache_key:
                    found.setdefault(claim.cache_key, []).append(entry)
        return found

    def _adopt(
        self,
        job: PlannedJob,
        entries: Sequence[PendingJob],
        mine: set[str],
        reason: str = "pending",
    ) -> tuple[Job, Adopted] | None:
        """A journalled job that answers ``job``, fetched, to wait for instead of submitting.

        Seeded requests only (an unseeded one is meant to draw anew). A job the server no longer
        knows is closed as lost, one that failed or was cancelled with its status; a claim whose
        finished record shows another request is not taken (and closed as ``not_ours`` when it
        shows no request of this store). When only unfinished claims are left, the first is
        waited for and the others are kept as alternatives, tried in turn if its record shows
        another request once it finishes.
        """
        if job.seed is None or self.refresh:
            return None
        host = backend_host(self.client.base_url)
        claims: list[Job] = []
        chosen: Job | None = None
        for entry in entries:
            if entry.job_id in mine or entry.job_id in self._unverified:
                continue
            try:
                current = self.client.get(entry.job_id)
            except NotFoundError:
                self.journal.finished(entry.job_id, "lost", f"404 from {host}")
                continue
            if current.status in ("failed", "cancelled"):
                self.journal.finished(entry.job_id, current.status, _server_reason(current))
                continue
            if entry.verified:  # this store submitted it for this very request
                return current, Adopted(current.id, job.seed, reason)
            # a claim: every one is looked at, so a finished one of no request here is closed
            if current.status == "completed":
                matches, checked = match_claims(entry.requests, _as_full(self.client, current))
                if not any(c.cache_key == job.key for c in matches):
                    if not matches:  # the record shows no request of this store
                        self.journal.finished(entry.job_id, "not_ours", _record_summary(current))
                    continue  # another request's job: it stays journalled for that one
                if checked and len(matches) == 1 and chosen is None:
                    chosen = current  # its own record says it is this request's
                    continue
            claims.append(current)
        if chosen is not None:
            self._unverified[chosen.id] = _entry_of(entries, chosen.id)
            return chosen, Adopted(chosen.id, job.seed, reason)
        if not claims:
            return None
        first, *others = claims
        for claim in claims:
            self._unverified[claim.id] = _entry_of(entries, claim.id)
        self._alternatives[first.id] = others
        return first, Adopted(first.id, job.seed, reason, verified=False)

    def _claim(self, job: PlannedJob, job_ids: Sequence[str]) -> tuple[str, ...]:
        """Journal each job a lost submit may have created as a claim of ``job``'s request
        (never one already closed or stored here: that one belongs to its own request)."""
        closed = self.journal.closed()
        backend = journal_backend(self.client)
        named = []
        for job_id in job_ids:
            if job_id in closed or self.store.load(job_id, verify=False) is not None:
                continue
            self.journal.submitted(job_id, job.model, job.input, job.key, backend, verified=False)
            named.append(job_id)
        return tuple(named)

    def _interrupted_submit(self, job: PlannedJob, interrupt: KeyboardInterrupt) -> str:
        """The client's account of a submit cut short by Ctrl-C, worded for a notebook; a job it
        names is journalled (and closed there when it was cancelled), and so is each candidate."""
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
        self._claim(job, interrupt.candidates)
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
        from naive_nb.errors import JobCancelled, JobError, JobFailed, NaiveError, WaitTimeout

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
            return FailedJob(
                job.model,
                job.input,
                f"job {accepted.id} was cancelled",
                accepted.id,
                code="cancelled",
            )
        except WaitTimeout:
            return FailedJob(
                job.model,
                job.input,
                f"job {accepted.id} is still running on the server after the {self.timeout:g}s "
                f"deadline (--timeout); it may still be charged and is kept in the journal: "
                f"collect it with %naive resume {accepted.id} (or %naive get {accepted.id})",
                accepted.id,
                still_running=True,
                code="timeout",
            )
        except JobError as error:
            if error.job is not None and error.job.status == "completed":
                return _no_images(job, accepted.id)  # completed, yet no image named
            return _lost_contact(job, accepted.id, error)
        except NaiveError as error:
            return _lost_contact(job, accepted.id, error)
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
            claimed = self._unverified.pop(accepted.id, None)
            if claimed is None:
                return self.keep(job, finished)
            record = self.keep_claimed(claimed, finished)
        except EmptyResult:
            return _no_images(job, accepted.id)
        except Exception as error:
            return FailedJob(
                job.model,
                job.input,
                f"job {accepted.id} finished but its images could not be downloaded ({error}); "
                f"retry with %naive resume {accepted.id}",
                accepted.id,
                code="download",
            )
        if record is None or (record.request_sent and record.cache_key != job.key):
            return FailedJob(
                job.model,
                job.input,
                f"job {accepted.id}, found in the job list after this request's submit lost "
                f"its reply, turned out to be another request's job (its prompt or seed "
                "differs); run the cell again to submit this one",
                accepted.id,
                code="not_this_request",
            )
        return record

    # -- storing a finished job ---------------------------------------------------------------
    def keep(self, job: PlannedJob, finished: Job) -> JobRecord:
        """Download a completed job's images, store them, enter them in the cache and journal.

        Raises :class:`EmptyResult` (nothing stored, cached or closed) when it has no images.
        """
        return self._store(finished, job.model, job.input, job.key, "sent")

    def keep_claimed(self, entry: PendingJob, finished: Job) -> JobRecord | None:
        """A completed job journalled as a claim (found after a lost submit reply): stored as
        the one request its own record matches, else as unverified (not cached); None, and
        closed as ``not_ours``, when its record shows no request of this store."""
        finished = self._full(finished)
        matches, checked = match_claims(entry.requests, finished)
        if not matches:
            self.journal.finished(finished.id, "not_ours", _record_summary(finished))
            return None
        claim = matches[0]
        if checked and len(matches) == 1:
            return self._store(finished, claim.model, claim.input, claim.cache_key, "sent")
        return self._store(finished, claim.model, claim.input, "", "unverified")

    def keep_reconstructed(self, finished: Job) -> JobRecord:
        """A completed job this store never sent: stored with the request rebuilt from the
        server's record of it (what it reports; the rest is listed as unknown), never cached."""
        finished = self._full(finished)
        model, data, unknown = reconstructed_request(finished)
        return self._store(finished, model, data, "", "reconstructed", unknown)

    def _full(self, finished: Job) -> Job:
        """The job's full record: a completed job that names no images may be a job-list item
        (which carries no result), so it is read once more before anything counts it empty."""
        return _as_full(self.client, finished)

    def _store(
        self,
        finished: Job,
        model: str,
        data: dict[str, Any],
        key: str,
        source: str,
        unknown: Sequence[str] = (),
    ) -> JobRecord:
        finished = self._full(finished)
        images = self.download(finished) if finished.media_urls else []
        payloads = [
            ImagePayload(
                data=image.data,
                content_type=_content_type(image),
                width=_size(image)[0],
                height=_size(image)[1],
                seed=image.seed if image.seed is not None else data.get("seed"),
            )
            for image in images
        ]
        if source == "reconstructed":
            data = with_size_from_images(data, payloads)
        record = JobRecord(
            job_id=finished.id,
            model=model,
            input=data,
            cache_key=key,
            backend=backend_host(self.client.base_url),
            local_preview=_is_local(finished),
            credits_used=finished.credits_used,
            created=_iso(finished.created_at),
            completed=_iso(finished.completed_at),
            request_source=source,
            unknown=tuple(unknown),
        )
        saved = self.store.save(record, payloads)  # EmptyResult: no images, nothing written
        seeded = isinstance(data.get("seed"), int)
        if self.use_cache and seeded and saved.request_sent:  # unseeded: random, never again
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
    """What an interrupted submit did, in a notebook's terms (``%naive ...``, not ``client...``,
    nor an idempotency key, which a cell cannot pass)."""
    job = interrupt.job_id
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
    if interrupt.candidates:
        ids = ", ".join(interrupt.candidates[:5])
        more = f" and {len(interrupt.candidates) - 5} more" if len(interrupt.candidates) > 5 else ""
        return (
            f"Interrupted while submitting: could not tell whether a job was created. Jobs that "
            f"could be it: {ids}{more} (journalled: %naive resume collects the one that matches "
            "this request; %naive cancel JOB_ID stops one)."
        )
    return (
        "Interrupted while submitting: could not tell whether a job was created. "
        "%naive jobs lists recent jobs: %naive cancel JOB_ID stops yours, or %naive get JOB_ID "
        "collects it."
    )


def _entry_of(entries: Sequence[PendingJob], job_id: str) -> PendingJob:
    return next(entry for entry in entries if entry.job_id == job_id)


def _settle_adoption(outcome: RunOutcome, adopted_id: str, record: JobRecord) -> None:
    """The adoption of ``adopted_id`` as it ended: the job it collected, and whether that job's
    own record tied it to the request (else it is stored as unverified, not cached)."""
    for n, adopted in enumerate(outcome.adopted):
        if adopted.job_id == adopted_id:
            outcome.adopted[n] = replace(
                adopted, job_id=record.job_id, verified=record.request_sent
            )


def _as_full(client: JobClient, job: Job) -> Job:
    """``job``'s full record (a completed job that names no images may be a job-list item)."""
    return client.get(job.id) if job.status == "completed" and not job.media_urls else job


def _unknown_outcome(job: PlannedJob, candidates: Sequence[str]) -> FailedJob:
    """A submit whose reply was lost, and no job could be tied to it."""
    if candidates:
        ids = ", ".join(candidates[:5])
        more = f" and {len(candidates) - 5} more" if len(candidates) > 5 else ""
        message = (
            f"the submit got no reply and the server keeps no idempotency keys, so it is not "
            f"known whether it created a job; jobs that could be it: {ids}{more}, journalled "
            f"(not checked yet): %naive resume collects the one whose prompt and seed match "
            f"this request, %naive get JOB_ID shows one"
        )
    else:
        message = (
            "the submit got no reply and the job list could not tell whether it created a job; "
            "%naive jobs lists recent jobs (%naive get JOB_ID collects one); running the cell "
            "again may pay twice"
        )
    return FailedJob(
        job.model,
        job.input,
        message,
        still_running=bool(candidates),
        code="outcome_unknown",
        candidates=tuple(candidates),
    )


def _no_images(job: PlannedJob, job_id: str) -> FailedJob:
    return FailedJob(
        job.model,
        job.input,
        f"job {job_id} completed (and may have been charged), but the server named no images "
        f"for it; nothing was stored and it stays in the journal: %naive resume {job_id} "
        "looks again",
        job_id,
        still_running=True,
        code="no_images",
    )


def _lost_contact(job: PlannedJob, job_id: str, error: Exception) -> FailedJob:
    return FailedJob(
        job.model,
        job.input,
        f"lost contact while waiting for job {job_id} ({error}); it is kept in the "
        f"journal: collect it later with %naive resume {job_id}",
        job_id,
        still_running=True,
        code="lost_contact",
    )


def _server_reason(job: Job) -> str:
    message = (job.error or {}).get("message", "") if job.error else ""
    return str(message).rstrip().rstrip(".")


def _record_summary(job: Job) -> str:
    result = job.result or {}
    return f"its record shows prompt {result.get('prompt')!r}, seed {result.get('seed')!r}"


def match_claims(claims: Sequence[Claim], job: Job) -> tuple[list[Claim], bool]:
    """The claims a finished job's own record is consistent with, and whether it could be
    checked at all (the record reports the prompt or the seed).

    Compared where the record reports them: the model, the prompt, the seed, the number of
    images and their pixel size. What it does not report cannot rule a claim out.
    """
    result = job.result or {}
    prompt, seed = result.get("prompt"), job.seed
    infos = [i for i in result.get("images") or [] if isinstance(i, dict)]
    dims = {(i.get("width"), i.get("height")) for i in infos}
    size = next(iter(dims)) if len(dims) == 1 and None not in next(iter(dims)) else None
    count = len(job.media_urls) or len(infos)
    matches = []
    for claim in claims:
        asked = claim.input
        if job.model and claim.model and job.model != claim.model:
            continue
        if isinstance(prompt, str) and "prompt" in asked and prompt != asked["prompt"]:
            continue
        if seed is not None and isinstance(asked.get("seed"), int) and seed != asked["seed"]:
            continue
        if count and count != int(asked.get("num_images") or 1):
            continue
        if size is not None and "image_size" in asked and size != pixel_size(asked):
            continue
        matches.append(claim)
    checked = isinstance(prompt, str) or seed is not None
    return matches, checked


#: the ``image_size`` presets by pixel size (fal's convention), to name a size a record reports
SIZE_PRESETS = {
    pixel_size({"image_size": name}): name
    for name in (
        "square_hd",
        "square",
        "portrait_4_3",
        "portrait_16_9",
        "landscape_4_3",
        "landscape_16_9",
    )
}
#: input keys a job record reports (the rest of a request is unknown from the record alone)
REPORTED_KEYS = ("prompt", "seed", "image_size", "num_images")


def reconstructed_request(job: Job) -> tuple[str, dict[str, Any], list[str]]:
    """The request of a job this store did not send, as far as the server's record of it says:
    the model, the prompt, the seed and the number of images; the pixel size is added from the
    images themselves (:func:`with_size_from_images`). Returns the model, that input, and what
    is unknown ("other parameters" always: steps, guidance, format... are not reported)."""
    result = job.result or {}
    data: dict[str, Any] = {}
    unknown: list[str] = []
    if isinstance(result.get("prompt"), str):
        data["prompt"] = result["prompt"]
    else:
        unknown.append("prompt")
    if job.seed is not None:
        data["seed"] = job.seed
    else:
        unknown.append("seed")
    count = len(job.media_urls)
    if count:
        data["num_images"] = count
    if not job.model:
        unknown.append("model")
    unknown.append("other parameters")
    return job.model or "unknown model", data, unknown


def with_size_from_images(data: dict[str, Any], images: Sequence[ImagePayload]) -> dict[str, Any]:
    """``data`` with the ``image_size`` its images show: a preset's name, or width and height."""
    sizes = {(image.width, image.height) for image in images if image.width and image.height}
    if len(sizes) != 1:
        return data
    size = next(iter(sizes))
    named = SIZE_PRESETS.get(size)
    return {**data, "image_size": named or {"width": size[0], "height": size[1]}}


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
