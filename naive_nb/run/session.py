"""The core: :class:`Session`, the one object every front end builds a request for and calls.

The magic (``%naive``), the panel and ``naive_nb.compare()`` each turn what the user asked for
into a :class:`Request` and call the same session, so a sweep, a cache hit or a failure behaves
the same from all three::

    session = Session(Settings(store=Path("naive-results")))
    plan = session.plan(Request("a lighthouse", seeds=(1, 2, 3, 4)))   # checked, nothing sent
    outcome = session.run(plan, observer=print)        # blocking; Ctrl-C stops it
    handle = session.start(plan, observer=on_progress)  # returns at once; handle.cancel()

A session owns the store, the request cache and the job journal of its settings' store, and the
client, created on first use (that is when the embedded server may start: ``announce`` shows
its one-line notice). Every run goes on naive-nb's event-loop thread with the ``AsyncClient``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb._version import __version__
from naive_nb.client import ModelInfo, Price, Secret, resolve_backend, validate_model
from naive_nb.run.bridge import CancelToken, Post, RunHandle, run_blocking, start
from naive_nb.run.cache import RequestCache
from naive_nb.run.collect import collect_job, resume_jobs
from naive_nb.run.estimate import Durations
from naive_nb.run.journal import JobJournal
from naive_nb.run.keeper import Keeper, backend_host
from naive_nb.run.outcome import Outcome
from naive_nb.run.plan import Plan, PlannedJob, plan
from naive_nb.run.problems import PlanProblem, RunInterrupted
from naive_nb.run.reporter import INTERVAL, Observer, Reporter
from naive_nb.run.reports import (
    CancelReport,
    JobsReport,
    JournalDamage,
    Quote,
    QuoteLine,
    ResumeReport,
    StatusReport,
)
from naive_nb.run.request import Request
from naive_nb.run.runner import Runner
from naive_nb.run.runs import RunBook
from naive_nb.run.settings import Settings
from naive_nb.run.store import ResultStore

if TYPE_CHECKING:  # pragma: no cover
    import asyncio

    from naive_nb.client import Client

__all__ = ["PRICE_TTL", "Session"]

#: seconds a price from the pricing endpoint is reused for
PRICE_TTL = 600.0


class Session:
    """Plans, runs and collects requests for one user's settings (see the module docstring).

    Its methods are the core's whole surface for every front end (plan, price, run, start,
    collect, resume, cancel, jobs, status, login), each a few lines over the modules that do the
    work; that surface, not any one concern, is what makes it a little over the size aimed for.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        client: Client | None = None,
        *,
        api_key: Secret | None = None,
        announce: Callable[[str], None] | None = None,
        progress_interval: float = INTERVAL,
    ) -> None:
        self._client = client
        self._api_key = api_key
        self.announce = announce
        self.progress_interval = progress_interval
        self._root: Path | None = None
        self.store: ResultStore
        self.cache: RequestCache
        self.journal: JobJournal
        self.runs: RunBook
        #: every planned run this session finished (or stopped), in order: a kernel's study
        self.history: list[Outcome] = []
        self.settings = settings or Settings()
        self.durations = Durations()
        self._prices: dict[tuple[str, str, int], tuple[float, Price]] = {}

    # -- what the session holds -----------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        """New settings take effect from the next call (a new store path: its own files)."""
        root = settings.store.expanduser().resolve()
        self._settings = replace(settings, store=root)
        if root != self._root:
            self._root = root
            self.store = ResultStore(root)
            self.cache = RequestCache(self.store)
            self.journal = JobJournal(root)
            self.runs = RunBook(root)

    @property
    def client(self) -> Client:
        """The client, created on first use (this is when the embedded server may start)."""
        if self._client is None:
            from naive_nb.client import Client

            key = self._api_key.reveal() if self._api_key else None
            # resolved here first so the embedded server's notice goes to `announce`
            resolve_backend(key, announce=self.announce)
            self._client = Client(key)
        return self._client

    @client.setter
    def client(self, client: Client | None) -> None:
        self._client = client

    @property
    def key_set(self) -> bool:
        return bool(self._api_key or os.environ.get("NAIVE_API_KEY"))

    def login(self, key: Secret) -> None:
        """Use ``key`` from now on if the server takes it (checked at once); else nothing
        changes and the server's refusal is raised."""
        previous = self._api_key, self._client
        self._api_key, self._client = key, None
        try:
            self.client.status()
        except Exception:
            self._api_key, self._client = previous
            raise
        if previous[1] is not None:
            previous[1].close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- planning and pricing ---------------------------------------------------------------
    def plan(self, request: Request, *, placeholders: Mapping[str, Any] | None = None) -> Plan:
        """``request`` made concrete and checked; nothing is sent (the server's catalog may be
        read). Raises ``PlanProblem`` or the client's ``ValidationError``."""
        return plan(request, self.settings, self._served, placeholders=placeholders)

    def quote(self, request: Request) -> Quote:
        """The price of ``request``, planned and checked exactly as a run would be (the prompt
        and the image do not change the price: placeholders stand in when none is given)."""
        placeholders = {"prompt": "(any prompt)", "image_url": "https://example.com/any.png"}
        served = plan(
            request,
            self.settings,
            self._served,
            placeholders=placeholders,
            pick_seed=lambda: 0,
        )
        return self.price(served)

    def price(self, plan: Plan) -> Quote:
        """The price of every job of ``plan`` (identical cells once), one line per model and
        image count."""
        return self._quote(plan, _unique_jobs(plan))

    def estimate(self, plan: Plan) -> Quote:
        """What running ``plan`` now would send and cost, and about how long it takes: jobs the
        store holds cost nothing (looked up by the cache's index, without reading the files:
        the run checks them), and nothing is asked when nothing is to be sent."""
        jobs = _unique_jobs(plan)
        cached = set()
        if plan.use_cache and not plan.refresh:
            cached = {
                job.key for job in jobs if job.seed is not None and self.cache.indexed(job.key)
            }
        to_send = [] if plan.cache_only else [job for job in jobs if job.key not in cached]
        quote = self._quote(plan, to_send)
        counts: dict[str, int] = {}
        for job in to_send:
            counts[job.model] = counts.get(job.model, 0) + 1
        backend = backend_host(self.client.base_url) if to_send else ""
        seconds = self.durations.run_seconds(backend, counts)
        return replace(quote, cached=len(cached), seconds=seconds)

    def over_cap(self, plan: Plan, quote: Quote) -> PlanProblem | None:
        """The refusal of a sweep (``quote``: its :meth:`estimate`) that would send more images
        or cost more credits than the settings' caps allow without confirmation, else None."""
        images = sum(line.jobs * line.num_images for line in quote.lines)
        caps = (
            ("confirm_images", self.settings.confirm_images, images),
            ("confirm_credits", self.settings.confirm_credits, quote.credits),
        )
        for cap, limit, value in caps:
            if limit is not None and value > limit:
                return PlanProblem(
                    "over_cap",
                    f"This sweep makes {quote.jobs} jobs ({images} images, about "
                    f"{quote.credits:g} credits), more than the cap {cap}={limit:g}.",
                    field=cap,
                    jobs=len(plan.jobs),
                    images=plan.images,
                    credits=quote.credits,
                    usd=quote.usd,
                    cap=cap,
                    limit=limit,
                )
        return None

    def _quote(self, plan: Plan, jobs: list[PlannedJob]) -> Quote:
        counts: dict[tuple[str, int], int] = {}
        for job in jobs:
            counts[(job.model, job.images)] = counts.get((job.model, job.images), 0) + 1
        lines, value = [], None
        for (model, num), count in counts.items():
            price = self._price(model, num)
            value = value or price.credit_value_usd
            usd = price.usd * count if price.usd is not None else None
            lines.append(QuoteLine(model, count, num, price.estimated_credits * count, usd))
        usds = [line.usd for line in lines]
        first = plan.jobs[0] if plan.jobs else None
        return Quote(
            model=lines[0].model if lines else plan.model,
            jobs=len(jobs),
            num_images=lines[0].num_images if lines else (first.images if first else 1),
            credits=sum(line.credits for line in lines),
            usd=None if any(u is None for u in usds) else sum(u or 0.0 for u in usds),
            credit_value_usd=value,
            lines=tuple(lines),
        )

    def _price(self, model: str, num_images: int) -> Price:
        """The pricing endpoint's price of one job, asked once per model and image count for
        :data:`PRICE_TTL` seconds (a sweep's plan line should not cost a request each time)."""
        key = (self.client.base_url, model, num_images)
        known = self._prices.get(key)
        now = time.monotonic()
        if known is None or now - known[0] > PRICE_TTL:
            known = (now, self.client.pricing(model, num_images))
            self._prices[key] = known
        return known[1]

    def _served(self, model: str) -> ModelInfo:
        """The model as the server's catalog lists it (the client caches the catalog)."""
        return validate_model(model, self.client.models())

    # -- runs ---------------------------------------------------------------------------------
    def run(
        self, plan: Plan, observer: Observer | None = None, cancel: CancelToken | None = None
    ) -> Outcome:
        """Run ``plan`` and wait for it. ``observer`` is called in THIS thread with the whole
        run's progress. Ctrl-C here, or ``cancel``, stops the run: its open jobs are cancelled,
        what finished is kept, and :class:`RunInterrupted` is raised with the report."""
        token = cancel or CancelToken()
        outcome, _ = run_blocking(self._loop(), self._in_caller(plan, observer), token)
        if outcome.interrupted is not None:
            raise RunInterrupted(outcome.interrupted, outcome)
        return outcome

    def start(self, plan: Plan, observer: Observer | None = None) -> RunHandle[Outcome]:
        """Start ``plan`` and return at once; ``observer`` is called ON THE LOOP THREAD. The
        handle cancels, polls or waits for the run from any thread (``await handle`` too); its
        result is the :class:`Outcome`, with ``interrupted`` set when it was stopped."""
        return start(self._loop(), self._execute(plan, observer))

    def _in_caller(
        self, plan: Plan, observer: Observer | None
    ) -> Callable[[Post], Coroutine[Any, Any, Outcome]]:
        def build(post: Post) -> Coroutine[Any, Any, Outcome]:
            return self._execute(plan, _posting(observer, post))

        return build

    async def _execute(self, plan: Plan, observer: Observer | None) -> Outcome:
        self.cache.refresh()  # manifests another kernel wrote since are seen
        reporter = Reporter(len(plan.jobs), observer, interval=self.progress_interval)
        runner = Runner(
            plan,
            self._keeper(plan.use_cache),
            reporter,
            store=self.store,
            cache=self.cache,
            journal=self.journal,
        )
        outcome = await runner.execute()
        self.durations.learn(outcome.records)
        # written here, not in a thread: a second Ctrl-C must not lose the finished outcome
        self._keep_run(outcome)
        return outcome

    def _keep_run(self, outcome: Outcome) -> None:
        """The run on record (``<store>/_runs/``) and in :attr:`history`. A record that cannot
        be written (a read-only store) costs only the way back from a manifest to its sweep:
        the run's files and manifests are already safe, so it does not fail the run."""
        self.history.append(outcome)
        with contextlib.suppress(OSError):
            self.runs.save(outcome, self.settings)

    def _keeper(self, use_cache: bool | None = None) -> Keeper:
        cache = self.settings.cache if use_cache is None else use_cache
        engine = self.client.async_client
        return Keeper(engine, self.store, self.cache, self.journal, use_cache=cache)

    def _loop(self) -> asyncio.AbstractEventLoop:
        from naive_nb.client import LoopThread

        self.client  # noqa: B018  # the client first: it starts the loop thread it runs on
        return LoopThread.get().loop

    # -- one job at a time ------------------------------------------------------------------
    def collect(self, job_id: str, observer: Observer | None = None) -> Outcome:
        """A finished job as an outcome of one record: from the store if kept, else waited for,
        fetched and stored. Raises ``JobProblem`` (``ended``) or the client's errors."""
        keeper = self._keeper()

        def build(post: Post) -> Coroutine[Any, Any, Outcome]:
            reporter = Reporter(1, _posting(observer, post), interval=self.progress_interval)
            return collect_job(
                job_id,
                keeper,
                self.store,
                self.journal,
                reporter,
                timeout=self.settings.timeout,
            )

        outcome, _ = run_blocking(self._loop(), build)
        return outcome

    def resume(self, job_id: str | None = None, observer: Observer | None = None) -> ResumeReport:
        """Collect the journal's pending jobs (or the one named), one by one."""
        pending = {p.job_id: p for p in self.journal.pending()}
        ids = [job_id] if job_id else list(pending)
        damage = self.journal_damage()
        if not ids:
            return ResumeReport([], damage)
        keeper = self._keeper()

        def build(post: Post) -> Coroutine[Any, Any, Any]:
            def new_reporter() -> Reporter:
                return Reporter(1, _posting(observer, post), interval=self.progress_interval)

            return resume_jobs(
                ids,
                pending,
                keeper,
                self.store,
                self.journal,
                new_reporter,
                timeout=self.settings.timeout,
            )

        rows, _ = run_blocking(self._loop(), build)
        return ResumeReport(rows, damage)

    def cancel(self, job_id: str) -> CancelReport:
        """Cancel a queued or running job (closed in the journal when it was journalled)."""
        job = self.client.get(job_id)
        if job.done:
            return CancelReport(job, cancelled=False)
        job = self.client.cancel(job_id)
        if job.status != "cancelled":
            return CancelReport(job, cancelled=False)
        if any(p.job_id == job.id for p in self.journal.pending()):
            self.journal.finished(job.id, "cancelled", "cancelled on request")
        return CancelReport(job, cancelled=True)

    # -- what is there ----------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        return self.client.models()

    def jobs(self, status: str | None = None, limit: int = 20) -> JobsReport:
        remote = self.client.jobs(status, limit)
        return JobsReport(remote, self.journal.pending(), self.store.root, self.journal_damage())

    def status(self) -> StatusReport:
        client = self.client
        credits: dict[str, Any] | None = None
        error: Exception | None = None
        try:
            credits = dict(client.status().get("credits", {}))
        except Exception as failure:
            error = failure
        return StatusReport(
            backend=client.backend,
            base_url=client.base_url,
            key_set=self.key_set,
            credits=credits,
            credits_error=error,
            version=__version__,
            store=self.store.root,
            cached_requests=len(self.cache.entries()),
            pending=len(self.journal.pending()),
            cache_only=self.settings.cache_only,
            damage=self.journal_damage(),
        )

    def journal_damage(self) -> JournalDamage:
        return JournalDamage(self.journal.path, self.journal.read().damaged)


def _unique_jobs(plan: Plan) -> list[PlannedJob]:
    """The plan's jobs, identical cells (one request key) once."""
    return list({job.key: job for job in reversed(plan.jobs)}.values())[::-1]


def _posting(observer: Observer | None, post: Post) -> Observer | None:
    """``observer``, called in the thread that ``post`` hands calls to."""
    if observer is None:
        return None

    def relay(progress: Any) -> None:
        post(lambda: observer(progress))

    return relay
