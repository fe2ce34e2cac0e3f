"""Waiting for one job and keeping it: the one place a finished job becomes files on disk.

"Wait, collect, journal one job" is written here once; the runner (many jobs at a time) and
:meth:`naive_nb.run.session.Session.collect` (one job by its id) both go through it:

- :meth:`Keeper.wait` waits for a job and closes it in the journal when it ends without images
  (failed, cancelled); a job past its deadline stays journalled;
- :meth:`Keeper.keep` (and ``keep_claimed``, ``keep_reconstructed``) downloads a completed job's
  images at once (result URLs expire), stores them with their provenance, and only then enters
  them in the cache and closes the job in the journal. A job with no images is never stored,
  cached or closed (:class:`EmptyResult`): it stays journalled for a later look.

The client is the ``AsyncClient`` (every call here runs on naive-nb's event-loop thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from naive_nb.client import (
    LOCAL_BACKEND,
    LOCAL_ENGINE,
    GeneratedImage,
    Job,
    JobSlot,
    ModelInfo,
    Notice,
    sniff_content_type,
)
from naive_nb.errors import JobCancelled, JobFailed
from naive_nb.run.cache import RequestCache
from naive_nb.run.claims import (
    match_claims,
    reconstructed_request,
    record_summary,
    with_size_from_images,
)
from naive_nb.run.journal import JobJournal, PendingJob
from naive_nb.run.plan import PlannedJob
from naive_nb.run.records import JobRecord
from naive_nb.run.store import ImagePayload, ResultStore

__all__ = ["Engine", "JobSlots", "Keeper", "backend_host", "journal_backend", "server_reason"]

JobCallback = Callable[[Job], object]
NoticeCallback = Callable[[Notice], object]


class Engine(Protocol):
    """What the run layer needs of :class:`naive_nb.AsyncClient`."""

    @property
    def base_url(self) -> str: ...

    @property
    def backend(self) -> str: ...

    async def models(self, *, refresh: bool = False) -> list[ModelInfo]: ...

    async def submit(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        on_submitted: Callable[[Job], Awaitable[object] | object] | None = None,
        on_notice: Callable[[Notice], Awaitable[object] | object] | None = None,
    ) -> Job: ...

    async def wait(
        self,
        job: str | Job,
        *,
        timeout: float | None = ...,
        on_update: Callable[[Job], Awaitable[object] | object] | None = None,
        on_notice: Callable[[Notice], Awaitable[object] | object] | None = None,
    ) -> Job: ...

    async def get(self, job_id: str) -> Job: ...

    async def cancel(self, job_id: str, *, at_once: bool = False) -> Job: ...

    async def download(self, job: str | Job) -> list[GeneratedImage]: ...


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


def server_reason(job: Job) -> str:
    """The server's reason for a job that failed, without a closing full stop."""
    message = (job.error or {}).get("message", "") if job.error else ""
    return str(message).rstrip().rstrip(".")


class Keeper:
    """Waits for jobs and stores the finished ones in ``store`` (cache and journal beside it)."""

    def __init__(
        self,
        client: Engine,
        store: ResultStore,
        cache: RequestCache,
        journal: JobJournal,
        *,
        use_cache: bool = True,
    ) -> None:
        self.client = client
        self.store = store
        self.cache = cache
        self.journal = journal
        self.use_cache = use_cache

    async def wait(
        self,
        accepted: Job,
        timeout: float | None,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
        *,
        close: bool = True,
    ) -> Job:
        """The finished job. A job that ends failed or cancelled is closed in the journal with
        that status (``close``: it is journalled), and the client's ``JobFailed`` /
        ``JobCancelled`` re-raised; any other error (deadline passed, contact lost) leaves it
        journalled.

        Always the accepted Job, never its id: the client paces the first look from when it
        accepted the job (``Job.accepted_at``), so a sweep's later jobs are looked at as soon as
        they are due, and no status request goes out at once.
        """
        try:
            return await self.client.wait(
                accepted, timeout=timeout, on_update=on_update, on_notice=on_notice
            )
        except JobFailed as error:
            if close:
                reason = error.server_message.rstrip().rstrip(".")
                self.journal.finished(accepted.id, "failed", reason)
            raise
        except JobCancelled:
            if close:
                self.journal.finished(accepted.id, "cancelled")
            raise

    async def keep(self, job: PlannedJob, finished: Job) -> JobRecord:
        """Download a completed job's images, store them, enter them in the cache and journal.

        Raises :class:`EmptyResult` (nothing stored, cached or closed) when it has no images.
        """
        return await self._store(finished, job.model, job.input, job.key, "sent")

    async def keep_claimed(self, entry: PendingJob, finished: Job) -> JobRecord | None:
        """A completed job journalled as a claim (found after a lost submit reply): stored as
        the one request its own record matches, else as unverified (not cached); None, and
        closed as ``not_ours``, when its record shows no request of this store."""
        finished = await self.full(finished)
        matches, checked = match_claims(entry.requests, finished)
        if not matches:
            self.journal.finished(finished.id, "not_ours", record_summary(finished))
            return None
        claim = matches[0]
        if checked and len(matches) == 1:
            return await self._store(finished, claim.model, claim.input, claim.cache_key, "sent")
        return await self._store(finished, claim.model, claim.input, "", "unverified")

    async def keep_reconstructed(self, finished: Job) -> JobRecord:
        """A completed job this store never sent: stored with the request rebuilt from the
        server's record of it (what it reports; the rest is listed as unknown), never cached."""
        finished = await self.full(finished)
        model, data, unknown = reconstructed_request(finished)
        return await self._store(finished, model, data, "", "reconstructed", unknown)

    async def full(self, job: Job) -> Job:
        """The job's full record: a completed job that names no images may be a job-list item
        (which carries no result), so it is read once more before anything counts it empty."""
        if job.status == "completed" and not job.media_urls:
            return await self.client.get(job.id)
        return job

    async def _store(
        self,
        finished: Job,
        model: str,
        data: dict[str, Any],
        key: str,
        source: str,
        unknown: Sequence[str] = (),
    ) -> JobRecord:
        finished = await self.full(finished)
        images = await self.client.download(finished) if finished.media_urls else []
        payloads = [_payload(image, data.get("seed")) for image in images]
        if source == "reconstructed":
            data = with_size_from_images(data, payloads)
        record = JobRecord(
            job_id=finished.id,
            model=model,
            input=data,
            cache_key=key,
            backend=journal_backend(self.client),  # the embedded server: no stale port
            local_preview=(finished.result or {}).get("engine") == LOCAL_ENGINE,
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


def _payload(image: GeneratedImage, seed: Any) -> ImagePayload:
    width, height = _size(image)
    return ImagePayload(
        data=image.data,
        content_type=sniff_content_type(image.data, image.content_type),
        width=width,
        height=height,
        seed=image.seed if image.seed is not None else seed,
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _size(image: GeneratedImage) -> tuple[int, int]:
    """The reply's width and height, or the file's own when the reply left them out."""
    if image.width and image.height:
        return image.width, image.height
    try:
        width, height = image.pil.size
    except Exception:  # not an image Pillow reads: the tile will say so
        return 0, 0
    return int(width), int(height)


class JobSlots:
    """The client's cap on jobs in flight (submit to terminal status), shared by every run: one
    of its job slots is taken before each submit and given back when that job is followed to
    its end (in another task, so not an ``async with``)."""

    def __init__(self, take: Callable[[], JobSlot] | None) -> None:
        self._take = take
        self._held: list[JobSlot] = []

    @classmethod
    def of(cls, client: Any) -> JobSlots:
        # no cap for a client without job slots (a test double)
        return cls(getattr(client, "job_slot", None))

    async def acquire(self) -> None:
        if self._take is not None:
            self._held.append(await self._take().acquire())

    def release(self) -> None:
        if self._held:
            self._held.pop().release()
