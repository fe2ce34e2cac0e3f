"""``%naive`` and ``%%naive``: generate images from a notebook cell (see ``docs/magic.md``).

Load with ``%load_ext naive_nb`` or ``c.InteractiveShellApp.extensions = ["naive_nb"]``. Loading
registers the magics and nothing else: no network, no files, and no httpx, Pillow or Starlette
import (those wait for the first command that needs them).

The layers below do the work: ``naive_nb.notebook.args`` parses, ``naive_nb.run`` plans, caches,
journals and stores, ``naive_nb.display`` renders, the client talks to the API. This module
wires them to IPython: configuration, progress display, errors that fail the cell, and the user
namespace.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, validate

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client._backend import Secret
    from naive_nb.client._sync import Client
    from naive_nb.client._types import ModelInfo
    from naive_nb.display.grid import GridSizes
    from naive_nb.display.result import NaiveResult
    from naive_nb.notebook.args import Command, GenerateArgs
    from naive_nb.run.events import Summary
    from naive_nb.run.runner import PlannedJob, Runner
    from naive_nb.run.store import ResultStore

DEFAULT_MODEL = "fal-ai/flux/schnell"
PROGRESS_MODES = ("auto", "widget", "html", "text", "none")


@magics_class
class NaiveMagics(Magics):
    """Generate images with the Naive API from a cell: ``%naive PROMPT [options]``."""

    model = Unicode(DEFAULT_MODEL, help="Model used when a cell gives no --model.").tag(config=True)
    size = Unicode("square_hd", help="image_size used when a cell gives no --size.").tag(
        config=True
    )
    num_images = Int(1, min=1, max=4, help="Images per job when a cell gives no --num.").tag(
        config=True
    )
    output_format = Enum(
        ("jpeg", "png"),
        default_value=None,
        allow_none=True,
        help="output_format when a cell gives no --format (None: the model's default).",
    ).tag(config=True)
    thumbnail_size = Int(
        112, min=32, max=512, help="Side in pixels of the HTML thumbnails saved in the notebook."
    ).tag(config=True)
    grid_size = Int(
        1024,
        min=256,
        max=4096,
        help="Longest side in pixels of the JPEG grid saved in the notebook.",
    ).tag(config=True)
    store = Unicode(
        "naive-results",
        help="Directory of full-size images, manifests, the request cache and the job journal "
        "(relative paths are relative to the kernel's working directory).",
    ).tag(config=True)
    timeout = Float(600.0, min=1.0, help="Seconds to wait for a job before giving up.").tag(
        config=True
    )
    cache = Bool(True, help="Serve a request made before from the store (0 requests).").tag(
        config=True
    )
    offline = Bool(False, help="Serve from the cache only; fail clearly on a miss.").tag(
        config=True
    )
    short_errors = Bool(
        True, help="Show errors as one short message; False shows the full traceback."
    ).tag(config=True)
    progress = Enum(
        PROGRESS_MODES,
        default_value="auto",
        help="Progress display: auto (widget in Jupyter, a text line in a terminal), "
        "widget, html, text or none.",
    ).tag(config=True)

    @validate("store")
    def _check_store(self, proposal: Any) -> str:
        value: str = proposal["value"]
        if not value.strip():  # "" would scatter files, cache and journal into the cwd
            raise TraitError(f"NaiveMagics.store must be a directory path; got {value!r}.")
        return value

    @validate("model")
    def _check_model(self, proposal: Any) -> str:
        value: str = proposal["value"]
        if not value.strip():
            raise TraitError(f"NaiveMagics.model must be a model id; got {value!r}.")
        return value

    @validate("size")
    def _check_size(self, proposal: Any) -> str:
        from naive_nb.client._validation import IMAGE_SIZES

        value: str = proposal["value"]
        if value not in IMAGE_SIZES:  # sent as image_size by every cell without --size
            raise TraitError(f"NaiveMagics.size must be one of {', '.join(IMAGE_SIZES)}.")
        return value

    def update_config(self, config: Any) -> None:
        """``%config NaiveMagics.x = v``: an unknown name or a refused value fails the cell."""
        from naive_nb.notebook.config import apply_settings

        apply_settings(self, config, super().update_config)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)  # type: ignore[no-untyped-call]
        self._client: Client | None = None
        # from %naive login; in memory only, wrapped so no repr or verbose traceback shows it
        self._api_key: Secret | None = None

    # ------------------------------------------------------------------ entry point
    @no_var_expand  # type: ignore[untyped-decorator]  # "$" and "{}" reach the API verbatim
    @line_cell_magic  # type: ignore[untyped-decorator]
    def naive(self, line: str = "", cell: str | None = None) -> Any:
        """Generate images, or run a subcommand. ``%naive help`` lists everything."""
        try:
            from naive_nb.notebook.args import parse_line

            command = parse_line(line, cell)
            return self._dispatch(command)
        except Exception as error:
            self._fail(error)
            raise  # _fail always raises; this keeps type checkers informed

    def _fail(self, error: Exception) -> None:
        from naive_nb.notebook.messages import NaiveUsageError, scrub, short_message

        if isinstance(error, NaiveUsageError):
            raise error
        if isinstance(error, _Short):
            if not self.short_errors:  # the exception behind the words, never the private class
                behind = error.__cause__ or error.__context__
                if behind is not None:
                    raise behind
                failed = CellFailed(scrub(str(error), self._secrets()))
                raise failed.with_traceback(error.__traceback__) from None
            message = str(error)
        else:
            worded = short_message(error)
            if worded is None or not self.short_errors:
                raise error
            message = worded
        raise NaiveUsageError(scrub(message, self._secrets())) from None

    def _secrets(self) -> list[str]:
        typed = self._api_key.reveal() if self._api_key else None
        return [s for s in (typed, os.environ.get("NAIVE_API_KEY")) if s]

    def _dispatch(self, command: Command) -> Any:
        handler = getattr(self, f"_cmd_{command.name}")
        return handler(command)

    # ------------------------------------------------------------------ shared plumbing
    @property
    def client(self) -> Client:
        """The client, created on first use (this is when the embedded server may start)."""
        if self._client is None:
            from naive_nb.client._backend import resolve_backend
            from naive_nb.client._sync import Client

            key = self._api_key.reveal() if self._api_key else None
            # resolved here first so the embedded server's one-line notice, if it starts now,
            # is an ordinary output line rather than a pink stderr block
            resolve_backend(key, announce=_show_notice)
            self._client = Client(key)
        return self._client

    def _store(self) -> ResultStore:
        from naive_nb.run.store import ResultStore

        return ResultStore(Path(self.store).expanduser().resolve())

    def _sizes(self) -> GridSizes:
        from naive_nb.display.grid import GridSizes

        return GridSizes(composite_side=self.grid_size, thumb_side=self.thumbnail_size)

    def _served_model(self, model_id: str) -> ModelInfo:
        """The model as the server's catalog lists it (the client caches the catalog)."""
        from naive_nb.client._validation import validate_model

        return validate_model(model_id, self.client.models())

    def _progress_mode(self) -> str:
        from naive_nb.notebook.progress import detect_mode

        return detect_mode(self.shell) if self.progress == "auto" else self.progress

    def _publish(self, name: str | None, value: Any) -> None:
        if name and self.shell is not None:
            self.shell.user_ns[name] = value

    # ------------------------------------------------------------------ generate
    def _prepare(
        self, args: GenerateArgs, *, offline: bool, seed: int, served: bool = False
    ) -> tuple[str, list[PlannedJob], int | None, bool]:
        """Plan the jobs and check each with the client's validator, before any request.

        Returns the model, the jobs, the seed chosen for a request that gave none, and whether
        the served catalog was used. One validator and one catalog: ``naive_nb.client._validation``.
        Its documented catalog answers without a request (offline mode; a cached re-run sends
        nothing); the server's catalog, which ``Client.submit`` checks against too and which may
        list models and parameters added since, is asked whenever it could disagree: an
        undocumented model, a request the documented catalog refuses, ``served=True``.
        """
        from naive_nb.client._validation import documented_model
        from naive_nb.errors import ValidationError
        from naive_nb.run.params import InputProblem

        model = args.model or self.model
        documented = documented_model(model)
        if served and not offline:
            return (model, *self._plan(args, self._served_model(model), seed), True)
        if documented is None:
            if offline:  # the served catalog is a request away, and offline mode sends none
                raise InputProblem(
                    "model",
                    f"Offline mode checks requests against the documented models only, and "
                    f"{model!r} is not one of them. Turn offline mode off to use it.",
                )
            return (model, *self._plan(args, self._served_model(model), seed), True)
        try:
            return (model, *self._plan(args, documented, seed), False)
        except ValidationError as error:
            # value rules are the validator's own; only the keys a model takes come from a
            # catalog, so only a key the documented entry lacks is worth asking the server about
            key = (error.field or "").removeprefix("input.")
            if offline or key in documented.key_params:
                raise
        return (model, *self._plan(args, self._served_model(model), seed), True)

    def _plan(
        self,
        args: GenerateArgs,
        info: ModelInfo,
        seed: int,
        placeholders: dict[str, Any] | None = None,
    ) -> tuple[list[PlannedJob], int | None]:
        """The jobs of a request for ``info``, each checked; and ``seed`` if it was used."""
        from naive_nb.client._validation import validate_input
        from naive_nb.run.params import InputProblem
        from naive_nb.run.runner import plan
        from naive_nb.run.sweep import MAX_SWEEP

        base: dict[str, Any] = {}
        if args.prompt or info.mode != "image-to-image":  # image-to-image: the prompt is optional
            base["prompt"] = args.prompt
        defaults = {
            "image_size": self.size,
            "num_images": self.num_images,
            "output_format": self.output_format,
        }
        for key, value in defaults.items():
            # config defaults are written out, so the cache key names the full request
            if key in info.key_params and value is not None and key not in args.params:
                base[key] = value
        base.update(args.params)
        for key, value in (placeholders or {}).items():
            if key in info.key_params and not base.get(key):
                base[key] = value
        chosen: int | None = None
        takes_seed = "seed" in info.key_params
        if not takes_seed:
            if args.seed is not None or args.seeds:
                validate_input(info, {**base, "seed": 0})  # names the model that takes no seed
            seeds: list[int | None] = [None]
        elif args.seeds:
            seeds = list(args.seeds)
        elif args.seed is not None:
            seeds = [args.seed]
        else:
            chosen = seed
            seeds = [chosen]
        sweeps = (len(seeds) > 1) + len(args.axes)
        if sweeps > 2:
            raise InputProblem(
                "seeds",
                "At most two sweep axes at once (e.g. --seeds 1-4 with --steps 4,8); "
                "fix the others to one value.",
            )
        if sweeps == 2 and base.get("num_images", 1) != 1:
            raise InputProblem(
                "num_images",
                "With two sweep axes each cell of the grid is one image: use --num 1.",
            )
        jobs = plan(info.id, base, seeds, args.axes)
        if len(jobs) > MAX_SWEEP:
            raise InputProblem(
                "seeds",
                f"This sweep makes {len(jobs)} jobs; the limit is {MAX_SWEEP} per cell. "
                "Use fewer values.",
            )
        for job in jobs:
            validate_input(info, job.input)
        return jobs, chosen

    def _runner(self, args: GenerateArgs, on_progress: Any) -> Runner:
        from naive_nb.run.runner import Runner

        return Runner(
            self.client if not (self.offline or args.offline) else _OfflineClient(),
            self._store(),
            use_cache=self.cache,
            offline=self.offline or args.offline,
            refresh=args.refresh,
            timeout=args.timeout or self.timeout,
            on_progress=on_progress,
        )

    def _cmd_generate(self, command: Command) -> NaiveResult:
        from naive_nb.display.result import NaiveResult
        from naive_nb.notebook.messages import adopted, listing, repaired
        from naive_nb.notebook.progress import ProgressView
        from naive_nb.run.events import Summary
        from naive_nb.run.runner import RunInterrupted, sentence
        from naive_nb.run.sweep import random_seed

        args = command.generate
        offline = self.offline or args.offline
        seed = random_seed()  # used only if the request names none (and the model takes one)
        _model, jobs, chosen, served = self._prepare(args, offline=offline, seed=seed)
        view = ProgressView(self._progress_mode())
        runner = self._runner(args, view.update)
        hits = runner.cached(jobs)  # offline misses fail here, before any display or request
        if len(hits) < len(jobs) and not offline and not served:
            # about to send: check against the catalog the server (and Client.submit) uses
            _model, jobs, chosen, served = self._prepare(
                args, offline=False, seed=seed, served=True
            )
            hits = runner.cached(jobs)
        started = len(hits) < len(jobs)
        if started:
            view.start()
        summary: Summary | None = None
        try:
            try:
                outcome = runner.run(jobs)
            except RunInterrupted as interrupt:
                summary = Summary(ok=False, seconds=view.elapsed, message=str(interrupt))
                raise _Short(str(interrupt)) from None
            except Exception as error:
                summary = Summary(ok=False, seconds=view.elapsed, message=self._brief(error))
                raise
            result = NaiveResult(
                outcome.records,
                outcome.failures,
                sizes=self._sizes(),
                order=[job.key for job in jobs],
            )
            notes = [f"no --seed given, so seed {chosen} was chosen" if chosen is not None else ""]
            notes.append(adopted(outcome.adopted) if outcome.adopted else "")
            refetched = {r.damage.job_id for r in outcome.repairs if r.refetched}
            cached = sum(
                len(r.files) for r in result.records if r.from_cache and r.job_id not in refetched
            )
            summary = self._summary(result, outcome.seconds, cached, "; ".join(filter(None, notes)))
        finally:
            # always, also on a second Ctrl-C: the ticker thread must stop and the display end
            if summary is None:
                summary = Summary(ok=False, seconds=view.elapsed, message="interrupted")
            if started or summary.ok:  # a cache hit (nothing started) still says so
                view.finish(summary)
        for repair in outcome.repairs:  # a damaged copy is never re-paid in silence
            _show_notice(f"naive: {repaired(repair)}")
        self._publish(args.out, result)
        if result.failures:
            if result.records:
                _display(result)  # the grid with its failed tiles, before the cell fails
            total = len(jobs)
            failed = [f for f in result.failures if not f.still_running]
            running = [f for f in result.failures if f.still_running]
            plural = "s" if total > 1 else ""
            parts = []
            if failed:
                reasons = listing([f.message for f in failed], 3, "; ")
                parts.append(f"{len(failed)} of {total} job{plural} failed: {reasons}")
            if running:  # each message says it is still running and how to collect it
                parts.append(listing([f.message for f in running], 3, "; "))
            raise _Short(sentence(". ".join(parts)))
        return result

    def _summary(self, result: NaiveResult, seconds: float, cached: int, note: str) -> Summary:
        """How a run ended; ``cached`` counts images (as the summary's other counts do)."""
        from naive_nb.notebook.messages import listing
        from naive_nb.run.events import Summary

        failures = [f.message for f in result.failures]
        return Summary(
            ok=result.ok,
            seconds=seconds,
            images=len(result.images),
            credits=result.credits,
            job_ids=tuple(result.job_ids) + tuple(f.job_id for f in result.failures if f.job_id),
            cached=cached,
            message=note if result.ok else listing(failures, 2, "; "),
            still_running=bool(result.failures) and all(f.still_running for f in result.failures),
        )

    def _brief(self, error: Exception) -> str:
        from naive_nb.notebook.messages import scrub, short_message

        return scrub(short_message(error) or f"{type(error).__name__}: {error}", self._secrets())

    # ------------------------------------------------------------------ subcommands
    def _cmd_help(self, command: Command) -> None:
        from naive_nb.notebook.args import help_text

        print(help_text())

    def _cmd_models(self, command: Command) -> Any:
        from naive_nb.display.table import Table

        models = self.client.models()
        rows = [
            (m.id + (" (default)" if m.default else ""), m.name, m.mode, ", ".join(m.key_params))
            for m in models
        ]
        return Table("Naive image models", ("id", "name", "mode", "parameters"), rows)

    def _cmd_price(self, command: Command) -> Any:
        from naive_nb.display.table import Table

        args = command.generate
        # planned and checked exactly as a generation would be (a request that generation
        # would refuse gets no quote); the prompt and image do not change the price, so a
        # placeholder stands in for them when none is given
        placeholders = {"prompt": "(any prompt)", "image_url": "https://example.com/any.png"}
        model = args.model or self.model
        info = self._served_model(model)
        jobs, _chosen = self._plan(args, info, 0, placeholders)
        num = int(jobs[0].input.get("num_images", 1))
        price = self.client.pricing(model, num)
        credits = price.estimated_credits * len(jobs)
        usd = f"${price.usd * len(jobs):.4f}" if price.usd is not None else "-"
        value = f"1 credit = ${price.credit_value_usd:g}" if price.credit_value_usd else ""
        rows = [(model, len(jobs), num, f"{credits:g}", usd)]
        notes = [f"Estimate from the pricing endpoint; {value}. Cached re-runs cost nothing."]
        return Table("Price", ("model", "jobs", "images/job", "credits", "USD"), rows, notes)

    def _cmd_jobs(self, command: Command) -> Any:
        from naive_nb.display.table import Table
        from naive_nb.run.journal import JobJournal

        jobs = self.client.jobs(command.status, command.limit)
        rows = [
            (
                job.id,
                job.status,
                "" if job.progress is None else f"{job.progress:.0f}%",
                job.model or "",
                job.created_at.isoformat(timespec="seconds") if job.created_at else "",
            )
            for job in jobs
        ]
        journal = JobJournal(self._store().root)
        pending = journal.pending()
        notes = []
        if pending:
            ids = ", ".join(p.job_id for p in pending)
            notes.append(
                f"Not yet collected into {self.store}: {ids}. Run %naive resume to collect them."
            )
        notes.extend(_journal_damage(journal))
        title = f"Jobs ({command.status or 'all statuses'}, newest first)"
        return Table(title, ("id", "status", "progress", "model", "created"), rows, notes)

    def _cmd_status(self, command: Command) -> Any:
        from naive_nb import __version__
        from naive_nb.display.table import Table
        from naive_nb.run.cache import RequestCache
        from naive_nb.run.journal import JobJournal

        client = self.client
        store = self._store()
        journal = JobJournal(store.root)
        key_set = bool(self._api_key or os.environ.get("NAIVE_API_KEY"))
        try:
            credits = client.status().get("credits", {})
            balance = f"{credits.get('balance')} credits ({credits.get('tier', '-')})"
        except Exception as error:
            balance = f"unavailable ({self._brief(error)})"
        rows = [
            ("backend", f"{client.backend} at {client.base_url}"),
            ("API key set", "yes" if key_set else "no"),
            ("balance", balance),
            ("naive-nb version", __version__),
            ("store", str(store.root.resolve())),
            ("cached requests", len(RequestCache(store).entries())),
            ("jobs not yet collected", len(journal.pending())),
            ("offline mode", "on" if self.offline else "off"),
        ]
        return Table("naive-nb status", ("", ""), rows, _journal_damage(journal))

    def _cmd_login(self, command: Command) -> None:
        import getpass

        from naive_nb.client._backend import Secret

        typed = getpass.getpass("Naive API key (hidden; kept in this kernel's memory only): ")
        key = Secret(typed.strip())
        del typed
        if not key.reveal():
            raise _Short("No key entered; nothing changed.")
        previous = self._api_key, self._client
        self._api_key, self._client = key, None
        try:
            self.client.status()
        except Exception:
            self._api_key, self._client = previous
            raise
        if previous[1] is not None:
            previous[1].close()
        print(f"Logged in: using {self.client.base_url} with the key you typed (not saved).")

    def _cmd_cancel(self, command: Command) -> Any:
        from naive_nb.display.table import Table
        from naive_nb.run.journal import JobJournal

        assert command.job_id is not None
        job = self.client.get(command.job_id)
        journal = JobJournal(self._store().root)
        if job.done:
            note = f"It had already finished ({job.status}), so nothing was cancelled."
            return Table(f"Job {job.id}", ("id", "status"), [(job.id, job.status)], [note])
        job = self.client.cancel(command.job_id)
        if job.status == "cancelled":
            if any(p.job_id == job.id for p in journal.pending()):
                journal.finished(job.id, "cancelled", "%naive cancel")
            note = "Cancelled (not charged unless the provider had already started it)."
        else:
            note = f"It had already finished ({job.status}), so nothing was cancelled."
        return Table(f"Job {job.id}", ("id", "status"), [(job.id, job.status)], [note])

    def _cmd_get(self, command: Command) -> Any:
        from naive_nb.run.journal import JobJournal

        assert command.job_id is not None
        for note in _journal_damage(JobJournal(self._store().root)):
            _show_notice(f"naive: {note}")
        result = self._collect(command.job_id)
        self._publish(command.generate.out, result)
        return result

    def _cmd_resume(self, command: Command) -> Any:
        """Collect journalled jobs one by one; one dead job never stops the others."""
        from naive_nb.display.table import Table
        from naive_nb.errors import APIConnectionError, NotFoundError, WaitTimeout
        from naive_nb.run.journal import JobJournal
        from naive_nb.run.runner import journal_backend, sentence

        journal = JobJournal(self._store().root)
        for note in _journal_damage(journal):
            _show_notice(f"naive: {note}")
        pending = {p.job_id: p for p in journal.pending()}
        ids = [command.job_id] if command.job_id else list(pending)
        if not ids:
            print("Nothing to resume: every submitted job has been collected.")
            return None
        here = journal_backend(self.client)
        rows: list[tuple[str, str, str]] = []
        results: list[NaiveResult] = []
        for n, job_id in enumerate(ids):
            entry = pending.get(job_id)
            if entry is not None and entry.backend and entry.backend != here:
                rows.append(
                    (
                        job_id,
                        "skipped",
                        f"sent to {entry.backend}, and this kernel uses {here}: point naive-nb "
                        "at that backend to collect it (it stays in the journal)",
                    )
                )
                continue
            try:
                results.append(self._collect(job_id, claims_only=True))
            except _Ended as ended:  # failed or cancelled: closed in the journal by _collect
                rows.append((job_id, ended.status, ended.reason))
                continue
            except _NotOurs as other:  # closed in the journal by _collect
                rows.append((job_id, "not ours", other.detail))
                continue
            except NotFoundError:  # closed in the journal by _collect
                rows.append((job_id, "lost", f"{here} does not know this job (any more)"))
                continue
            except WaitTimeout:
                rows.append(
                    (job_id, "still running", "past the deadline; still journalled: try later")
                )
                continue
            except APIConnectionError as error:
                rows.append((job_id, "not collected", self._brief(error)))
                rows.extend((rest, "not tried", "server unreachable") for rest in ids[n + 1 :])
                break
            except Exception as error:
                rows.append((job_id, "not collected", self._brief(error)))
                continue
            images = len(results[-1].images)
            rows.append((job_id, "collected", f"{images} image{'s' if images != 1 else ''}"))
        if len(ids) == 1 and results:  # the result itself says it all (and `r = ...` works)
            return results[0]
        if command.job_id:  # the one job asked for could not be collected: the cell fails
            _job, outcome, detail = rows[0]
            raise _Short(sentence(f"Job {ids[0]}: {outcome}{', ' + detail if detail else ''}"))
        closed = sum(1 for row in rows if row[1] in ("failed", "cancelled", "lost", "not ours"))
        notes = [f"{len(results)} collected, {closed} closed in the journal (not collectable)."]
        if len(results) + closed < len(rows):
            notes.append("The others stay journalled: %naive resume tries them again.")
        table = Table("Resume", ("job", "outcome", "detail"), rows, notes)
        return _Many([*results, table])

    def _collect(self, job_id: str, *, claims_only: bool = False) -> NaiveResult:
        """A finished job as a result: from the store if kept, else fetched, stored and shown.

        A journalled job that can never be collected (failed, cancelled, unknown to the server)
        gets its final journal event here, so it is not listed as pending forever. The request
        stored with it is the one this store sent (the journal has it); for a job journalled as
        a claim (found after a lost submit reply), the claim its own record matches; for a job
        this store never sent, the request rebuilt from the server's record, said to be so and
        never cached. ``claims_only``: a claim matching no request of this store raises
        :class:`_NotOurs` instead of being stored that way.
        """
        from naive_nb.display.result import NaiveResult
        from naive_nb.errors import JobCancelled, JobFailed, NotFoundError
        from naive_nb.notebook.messages import claim_unverified, damage_found, request_rebuilt
        from naive_nb.run.journal import JobJournal
        from naive_nb.run.runner import PlannedJob, Runner, backend_host, journal_backend

        store = self._store()
        journal = JobJournal(store.root)
        entry = next((p for p in journal.pending() if p.job_id == job_id), None)
        record, damage = store.check(job_id)
        if record is not None:
            if entry is not None:  # stored, then the kernel died before the journal said so
                journal.finished(job_id, "collected", "found in the store")
            return NaiveResult([record], sizes=self._sizes())
        if damage is not None and damage.problem != "manifest_missing":
            _show_notice(f"naive: {damage_found(damage)}; fetching it again from the server.")
        try:
            job = self.client.get(job_id)
        except NotFoundError:
            # lost only if this backend is the one it was sent to: another one never knew it
            if entry is not None and entry.backend in (None, journal_backend(self.client)):
                host = backend_host(self.client.base_url)
                journal.finished(job_id, "lost", f"404 from {host}")
            raise
        view = None
        if not job.done:
            from naive_nb.notebook.progress import ProgressView

            view = ProgressView(self._progress_mode())
            view.start()
            try:
                # the Job just fetched, not its id: no second look at once, paced by its age
                job = self.client.wait(
                    job, timeout=self.timeout, on_update=_feed(view), on_notice=view.notice
                )
            except BaseException as error:
                view.finish(_failed_summary(error, job_id))
                if not isinstance(error, (JobFailed, JobCancelled)):
                    raise
                job = error.job or job
        if job.status != "completed":
            message = (job.error or {}).get("message", "") if job.error else ""
            reason = str(message).rstrip().rstrip(".")
            if entry is not None and job.status in ("failed", "cancelled"):
                journal.finished(job_id, job.status, reason)
            raise _Ended(job_id, job.status, reason)
        runner = Runner(self.client, store, use_cache=self.cache)
        sent = entry if entry is not None and entry.verified else journal.request_of(job_id)
        record = None
        if sent is not None:  # the request this store sent
            record = runner.keep(PlannedJob(sent.model, sent.input), job)
        elif entry is not None:  # a claim: stored as the request its record matches
            record = runner.keep_claimed(entry, job)
            if record is None and claims_only:
                raise _NotOurs(job_id)
        if record is None:  # never sent from here (another kernel, the CLI), or not a claim's
            record = runner.keep_reconstructed(job)
            _show_notice(f"naive: job {job_id[:8]}: {request_rebuilt(record.unknown)}")
        elif record.request_source == "unverified":
            _show_notice(f"naive: job {job_id[:8]}: {claim_unverified()}")
        result = NaiveResult([record], sizes=self._sizes())
        if view is not None:
            view.finish(self._summary(result, view.elapsed, 0, "collected"))
        return result


class CellFailed(Exception):
    """A ``%naive`` cell whose work failed with no other exception behind it (jobs of a run that
    failed, a job that ended cancelled): what ``short_errors = False`` shows for those."""


class _Short(Exception):
    """An error already worded for the user (interrupts, failed jobs, failed cells)."""


class _Ended(_Short):
    """A job that ended without images (failed or cancelled)."""

    def __init__(self, job_id: str, status: str, reason: str) -> None:
        from naive_nb.run.runner import sentence

        super().__init__(sentence(f"Job {job_id} ended {status}{': ' + reason if reason else ''}"))
        self.job_id = job_id
        self.status = status
        self.reason = reason


class _NotOurs(_Short):
    """A job journalled as a claim whose own record matches no request of this store."""

    def __init__(self, job_id: str) -> None:
        self.detail = (
            "its prompt and seed match no request of this store (closed in the journal; "
            f"%naive get {job_id} shows it anyway)"
        )
        super().__init__(f"Job {job_id}: {self.detail}.")


class _Many:
    """Several results shown one after the other (``%naive resume`` of several jobs)."""

    def __init__(self, results: list[Any]) -> None:
        self.results = results

    def _ipython_display_(self) -> None:
        for result in self.results:
            _display(result)

    def __repr__(self) -> str:
        return "\n\n".join(repr(result) for result in self.results)


class _OfflineClient:
    """Stands in for the client in offline mode: anything that would send a request fails."""

    base_url = "offline"

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("offline mode: no request may be sent")


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]


def _show_notice(notice: str) -> None:
    """A plain, grey output line (stderr would render it as an error block in Jupyter)."""
    import html

    from IPython.display import display

    bundle = {
        "text/plain": notice,
        "text/html": f'<div style="color:#57606a">{html.escape(notice)}</div>',
    }
    display(bundle, raw=True)  # type: ignore[no-untyped-call]


def _feed(view: Any) -> Any:
    """An ``on_update`` callback showing a job's status on a progress view."""
    from naive_nb.run.events import ProgressState

    def update(job: Any) -> None:
        view.update(
            ProgressState(
                status=job.status,
                elapsed=0.0,
                job_id=job.id,
                progress=job.progress,
                estimated_seconds=job.estimated_seconds,
                estimated_credits=job.estimated_credits,
            )
        )

    return update


def _journal_damage(journal: Any) -> list[str]:
    """A note on the journal's damaged lines (skipped; the rest still counts), if any."""
    from naive_nb.notebook.messages import journal_damage

    damaged = journal.read().damaged
    return [journal_damage(journal.path, damaged)] if damaged else []


def _failed_summary(error: BaseException, job_id: str) -> Summary:
    from naive_nb.run.events import Summary

    return Summary(ok=False, seconds=0.0, job_ids=(job_id,), message=type(error).__name__)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%naive`` / ``%%naive`` (``%load_ext naive_nb``)."""
    ipython.register_magics(NaiveMagics(shell=ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Nothing to undo beyond IPython's own bookkeeping; kept for ``%reload_ext``."""
