"""``AsyncClient``: the public surface. The sync ``Client`` runs this same code on a loop thread.

Each coroutine here is a few lines over the parts that do the work, one concern a module:

* ``_transport``: one exchange (auth, limiter, key scrubbing) and the one retry loop;
  ``_envelope``: an error reply as the exception raised;
* ``_submit``: the idempotent create, reconciliation, interrupted submits;
* ``_wait``: the poll loop and the pace learned per model;
* ``_download``: a completed job's files, with no key sent to the file host.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from naive_nb._version import __version__
from naive_nb.client._backend import Backend, resolve_backend
from naive_nb.client._callbacks import JobCallback, NoticeCallback, observed
from naive_nb.client._download import download_images
from naive_nb.client._limiter import Limiter
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._slots import JobSlot
from naive_nb.client._submit import Submitter, cancel_after_interrupt, raise_interrupted
from naive_nb.client._transport import Transport
from naive_nb.client._types import (
    GeneratedImage,
    Job,
    ModelInfo,
    Price,
    Result,
    check_job_id,
)
from naive_nb.client._validation import (
    DEFAULT_MODEL,
    RANDOM_SEED_LIMIT,
    validate_input,
    validate_job_filter,
    validate_model,
    validate_num_images,
    validate_values,
)
from naive_nb.client._wait import (
    DEFAULT_WAIT_TIMEOUT,
    Pace,
    ScheduleFactory,
    read_job,
    settled,
    wait_for,
)
from naive_nb.errors import ConflictError

__all__ = ["AsyncClient"]

# generate's own arguments, which _generate_input spells out itself; the rest is passed as given
_SPELLED_OUT = frozenset({"prompt", "image_size", "num_images", "seed"})


class AsyncClient:
    """Asynchronous client of the Naive images API (see ``docs/client.md``).

    ``api_key`` / ``base_url`` default to ``NAIVE_API_KEY`` / ``NAIVE_BASE_URL``; with no key at all
    the embedded local preview server is started and used. ``on_submitted`` is called with each new
    job as soon as its id is known (before any polling), ``on_update`` with the job after each poll,
    ``on_notice`` with a :class:`Notice` when a call pauses for a while (rate limited, retrying).
    ``max_jobs_in_flight`` caps the jobs in flight exactly; by default it is 8 while the request
    budget is ample and follows the budget when it is short (``naive_nb.client._slots``).

    (A little over 250 lines: most of them are the public signatures and their docstrings; each
    body is a few lines over the parts named in the module docstring.)
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_jobs_in_flight: int | None = None,
        validate: bool = True,
        on_submitted: JobCallback | None = None,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        poll_schedule: ScheduleFactory | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._backend: Backend = resolve_backend(api_key, base_url)
        http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            headers={"User-Agent": f"naive-nb/{__version__}"},
        )
        self._rng = rng or random.Random()
        self._limiter = Limiter(max_jobs_in_flight=max_jobs_in_flight)
        self._transport = Transport(
            self._backend,
            http,
            policy=retry or RetryPolicy(),
            limiter=self._limiter,
            rng=self._rng,
            on_notice=on_notice,
        )
        self._validate = validate
        self._submitter = Submitter(
            self._transport, check=self._check if validate else None, pricing=self.pricing
        )
        self._pace = Pace(poll_schedule, self._rng)
        self._on_submitted = on_submitted
        self._on_update = on_update
        self._catalog: list[ModelInfo] | None = None

    # ------------------------------------------------------------------ plumbing
    @property
    def base_url(self) -> str:
        return self._backend.base_url

    @property
    def backend(self) -> str:
        """``"hosted"``, ``"custom"`` (another address) or ``"local preview engine"``."""
        return self._backend.label

    def __repr__(self) -> str:
        key = "set" if self._backend.key else "not set"
        name = type(self).__name__
        return f"{name}(base_url={self.base_url!r}, backend={self.backend!r}, api_key={key})"

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def job_slot(self) -> JobSlot:
        """One of the ``max_jobs_in_flight`` slots ``generate`` holds from submit to download,
        for a caller that runs its own submits and waits under the same cap::

            async with client.job_slot():
                job = await client.submit(model, input)
                await client.wait(job)

        (or ``await slot.acquire()`` ... ``slot.release()`` when the hold outlives one block)."""
        return JobSlot(self._limiter.slots)

    # ------------------------------------------------------------------ reads
    async def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """The model catalog (cached per client; ``refresh=True`` fetches it again)."""
        if self._catalog is None or refresh:
            data = (await self._transport.request("GET", "/v1/images/models")).json()
            self._catalog = [ModelInfo.from_api(m) for m in data.get("models", [])]
        return list(self._catalog)

    async def get(self, job_id: str) -> Job:
        job, _ = await read_job(self._transport, job_id)
        return job

    async def jobs(self, status: str | None = None, limit: int = 20) -> list[Job]:
        """Recent jobs, newest first (``limit`` 1-100)."""
        validate_job_filter(status, limit)
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        data = (await self._transport.request("GET", "/v1/jobs", params=params)).json()
        return [Job.from_api(item, partial=True) for item in data.get("jobs", [])]

    async def pricing(self, model: str = DEFAULT_MODEL, num_images: int = 1) -> Price:
        validate_num_images(num_images)
        if self._validate:
            validate_model(model, await self.models())
        params = {"model": model, "num_images": num_images}
        data = (await self._transport.request("GET", "/v1/images/pricing", params=params)).json()
        return Price.from_api(data, num_images)

    async def status(self) -> dict[str, Any]:
        """Account status: ``{"agent", "company", "credits": {"balance", "tier", ...}}``."""
        data: dict[str, Any] = (await self._transport.request("GET", "/v1/status")).json()
        return data

    async def usage(self, days: int = 30, limit: int = 50) -> dict[str, Any]:
        """Credit balance and recent transactions."""
        params = {"days": days, "limit": limit}
        response = await self._transport.request("GET", "/v1/usage", params=params)
        data: dict[str, Any] = response.json()
        return data

    # ------------------------------------------------------------------ cancel
    async def cancel(self, job_id: str, *, at_once: bool = False) -> Job:
        """Cancel a queued or processing job. A job that already finished is returned as it is.

        ``at_once``: send it now, whatever is left of the rate-limit budget (stopping a run: a
        job left running until the next window is charged); a 429 then fails the cancel."""
        try:
            path = f"/v1/jobs/{check_job_id(job_id)}"
            response = await self._transport.request("DELETE", path, limited=not at_once)
        except ConflictError:
            return await self.get(job_id)  # it finished first: report how it ended
        return Job.from_api(response.json())

    # ------------------------------------------------------------------ submit
    async def submit(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        on_submitted: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Job:
        """Create a job; returns at once with its id (status ``queued``).

        One idempotency key is sent per call (generated unless given), the same on every retry.
        A submit is resent only when nothing can have been created, or after the job list showed
        that nothing was; if that cannot be settled, :class:`SubmissionOutcomeUnknown` is raised.

        Interrupted (``KeyboardInterrupt`` or task cancellation) once a POST went out, it finds
        out within about two seconds whether a job was created (the POST's own reply, else the
        job list by idempotency key), cancels it, and re-raises saying what became of it.
        """
        key = idempotency_key or f"nvnb-{uuid.uuid4()}"
        callback = on_submitted or self._on_submitted
        return await observed(self._submitter.submit(model, dict(input), key, callback), on_notice)

    async def _check(self, model: str, data: dict[str, Any]) -> None:
        validate_values(model, data)  # bad values are refused before even the catalog is read
        validate_input(validate_model(model, await self.models()), data)

    # ------------------------------------------------------------------ wait
    async def wait(
        self,
        job: str | Job,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> Job:
        """Poll until the job is completed and return it.

        Raises :class:`JobFailed`, :class:`JobCancelled`, or :class:`WaitTimeout` (the job keeps
        running). Polls are paced by the job's ``estimated_seconds`` (see ``PollSchedule``).
        Given the ``Job`` that ``submit`` returned, the first look is paced from the submit
        (no look at once; a job submitted long enough ago is looked at right away); given an id,
        the job is looked at once, then paced by its age. A finished job is returned only as its
        full record says: given a job-list item (``Job.partial``) or a completed job naming no
        images, its record is fetched first.
        """
        callback = on_update or self._on_update
        waiting = wait_for(self._transport, self._pace, job, timeout, callback)
        return await observed(waiting, on_notice)

    # ------------------------------------------------------------------ generate
    async def generate(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_MODEL,
        seed: int | None = None,
        num_images: int = 1,
        image_size: str | dict[str, int] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        on_submitted: JobCallback | None = None,
        on_update: JobCallback | None = None,
        on_notice: NoticeCallback | None = None,
        **params: Any,
    ) -> Result:
        """Submit, wait, and download the images. An unseeded call gets a concrete seed first.

        On interruption (``KeyboardInterrupt`` or task cancellation) during the submit or the
        wait, the remote job is cancelled at once and the exception re-raised with what became
        of the job.
        """
        given: dict[str, Any] = {"prompt": prompt, "num_images": num_images, **params}
        if seed is not None:
            given["seed"] = seed
        if image_size is not None:
            given["image_size"] = image_size
        return await observed(
            self._generate(model, given, idempotency_key, timeout, on_submitted, on_update),
            on_notice,
        )

    async def _generate(
        self,
        model: str,
        given: dict[str, Any],
        idempotency_key: str | None,
        timeout: float | None,
        on_submitted: JobCallback | None,
        on_update: JobCallback | None,
    ) -> Result:
        accepted: tuple[str, ...] | None = None
        if self._validate:
            # the caller's own values first: bad ones are refused before even the catalog is read
            validate_values(model, given)
            accepted = validate_model(model, await self.models()).key_params or None
        data = _generate_input(given, accepted, self._rng)
        seed = data.get("seed")
        async with self.job_slot():
            job = await self.submit(
                model, data, idempotency_key=idempotency_key, on_submitted=on_submitted
            )
            try:
                done = await self.wait(job, timeout=timeout, on_update=on_update)
            except (asyncio.CancelledError, KeyboardInterrupt) as exc:
                raise_interrupted(exc, await cancel_after_interrupt(self._transport, job))
            images = await self._download(done, seed, data)
        return Result(job=done, images=images, model=model, input=data, seed=seed)

    # ------------------------------------------------------------------ download
    async def download(self, job: str | Job) -> list[GeneratedImage]:
        """Fetch a completed job's images (streamed, retried, no key sent to the file host).

        Result URLs expire, so download soon after completion; ``generate`` does it for you.
        A job-list item or a record naming no images is fetched in full first; a completed job
        whose full record names no images raises :class:`JobResultMissing`.
        """
        if isinstance(job, Job) and job.done and not job.needs_full_record:
            current = job
        else:
            current = await self.get(job.id if isinstance(job, Job) else job)
        if not current.done:
            raise ConflictError(
                f"job {current.id} is still {current.status}",
                advice=f"Wait for it first: client.wait({current.id!r}).",
                job_id=current.id,
            )
        done = settled(current)
        return list(await self._download(done, done.seed, {}))

    async def _download(
        self, job: Job, seed: int | None, data: dict[str, Any]
    ) -> tuple[GeneratedImage, ...]:
        return await download_images(self._transport, job, seed, data)


def _generate_input(
    given: dict[str, Any], accepted: tuple[str, ...] | None, rng: random.Random
) -> dict[str, Any]:
    """The ``input`` a generate call sends: the size and count spelled out where the model
    takes them, and a concrete seed chosen for an unseeded call (``accepted``: the model's
    ``key_params``, None when unknown)."""
    data: dict[str, Any] = {"prompt": given["prompt"]}
    size = given.get("image_size")
    if size is not None or accepted is None or "image_size" in accepted:
        data["image_size"] = size if size is not None else "square_hd"
    num_images = given["num_images"]
    if num_images != 1 or accepted is None or "num_images" in accepted:
        data["num_images"] = num_images
    seed = given.get("seed")
    if seed is None and (accepted is None or "seed" in accepted):
        seed = rng.randrange(RANDOM_SEED_LIMIT)
    if seed is not None:
        data["seed"] = seed
    data.update({k: v for k, v in given.items() if k not in _SPELLED_OUT})
    return data
