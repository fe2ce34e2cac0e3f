"""Submitting a job exactly once: the idempotent create, reconciliation, and interrupted submits.

One idempotency key per logical submit, the same on every attempt. A submit is resent only when
nothing can have been created, or after the job list showed that nothing was (reconciliation,
with candidates ruled out by their results); else :class:`SubmissionOutcomeUnknown`. Interrupted
once a POST went out, a submit finds out briefly whether it created a job, cancels that job and
says what became of it (:class:`Interrupted`). See "Reliability" in ``docs/client.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from naive_nb.client._callbacks import JobCallback, call_back
from naive_nb.client._retry import Action, Decision, Failure, Kind
from naive_nb.client._transport import Failed, Transport, retrying
from naive_nb.client._types import Job, Price
from naive_nb.client._wait import read_job
from naive_nb.errors import Interrupted, NaiveError, SubmissionOutcomeUnknown

__all__ = ["Submitter", "cancel_after_interrupt", "raise_interrupted"]

log = logging.getLogger("naive_nb.client")

# An interrupted submit first lets a POST already on the wire answer (its 202 names the job for
# sure), then reads the job list once: each step bounded, so Ctrl-C is answered in ~1-2 s.
_INTERRUPT_POST_GRACE = 1.0
_INTERRUPT_LOOKUP = 0.9

# How far back (seconds) a reconciliation looks for a job a lost submit may have created; wide
# enough to absorb clock skew between us and the server.
_RECONCILE_SKEW = 30.0
_RULE_OUT_LOOKS = 10  # candidate details fetched per reconciliation, at most

#: checks a submit's (model, input) before anything is sent; raises ValidationError
Check = Callable[[str, dict[str, Any]], Awaitable[None]]
#: the price of (model, num_images), for the error of a submit refused for lack of credits
Pricing = Callable[[str, int], Awaitable[Price]]


@dataclass
class _SubmitState:
    """How far an interrupted submit got: whether a POST went out, the job once known."""

    key: str
    sent: bool = False
    job: Job | None = None
    pending: asyncio.Future[httpx.Response | Failed] | None = None

    def mark_sent(self) -> None:
        self.sent = True


class Submitter:
    """Creates jobs for one client, and remembers the jobs it handed out: a reconciliation can
    rule those out as someone's lost job."""

    def __init__(self, transport: Transport, *, check: Check | None, pricing: Pricing) -> None:
        self._transport = transport
        self._check = check
        self._pricing = pricing
        self._known: deque[str] = deque(maxlen=20_000)
        self._known_set: set[str] = set()
        self._server_keeps_keys = False

    def _remember(self, job_id: str) -> None:
        if job_id in self._known_set:
            return
        if len(self._known) == self._known.maxlen:
            self._known_set.discard(self._known[0])
        self._known.append(job_id)
        self._known_set.add(job_id)

    async def submit(
        self, model: str, data: dict[str, Any], key: str, on_submitted: JobCallback | None
    ) -> Job:
        """Check, then create the job (see ``AsyncClient.submit``)."""
        state = _SubmitState(key)
        try:
            if self._check is not None:
                await self._check(model, data)  # bad values are refused before any request
            return await self._create(model, data, state, on_submitted)
        except (asyncio.CancelledError, KeyboardInterrupt) as exc:
            raise_interrupted(exc, await self._after_interrupted_submit(state, model))

    async def _create(
        self,
        model: str,
        data: dict[str, Any],
        state: _SubmitState,
        on_submitted: JobCallback | None,
    ) -> Job:
        key = state.key
        body = {"model": model, "input": data}
        started_wall = time.time()
        transport = self._transport

        async def post(max_wait: float) -> Job | Failed:
            # Shielded: an interrupt must not tear down a POST the server may be acting on; the
            # interrupt handler gives it a moment to answer (its 202 names the job for sure).
            state.pending = asyncio.ensure_future(
                transport.send(
                    "POST",
                    "/v1/images/generate",
                    json=body,
                    headers={"Idempotency-Key": key},
                    max_wait=max_wait,
                    on_sent=state.mark_sent,
                )
            )
            outcome = await asyncio.shield(state.pending)
            state.pending = None
            if isinstance(outcome, Failed):
                return outcome
            state.job = Job.from_api(outcome.json())
            return dataclasses.replace(state.job, accepted_at=time.monotonic())

        async def look(decision: Decision) -> Job | None:
            """Before resending (or giving up): did the lost attempt create our job?"""
            if decision.action is Action.RECONCILE:
                log.info(
                    "naive-nb: submit %s got %s; checking the job list before resending",
                    key,
                    decision.reason,
                )
            found, candidates = await self._reconcile(model, data, key, started_wall)
            if found is not None:
                state.job = found
                return found
            if candidates:
                raise SubmissionOutcomeUnknown(key, candidates, decision.reason) from None
            return None

        outcome = await retrying(
            post, transport.policy, transport.rng, on_pause=transport.retry_pause, reconcile=look
        )
        if isinstance(outcome, Failed):
            raise await self._submit_error(outcome, model, data) from None
        self._remember(outcome.id)
        await call_back(on_submitted, outcome)
        return outcome

    async def _reconcile(
        self, model: str, data: dict[str, Any], key: str, started_wall: float
    ) -> tuple[Job | None, list[Job]]:
        """Look for the job a lost submit may have created.

        Returns (our job, []) when a job carries our idempotency key. Otherwise (None, candidates):
        recent jobs of the same model that carry no key and that this client has not handed out.
        An empty list means nothing of ours exists. Raises SubmissionOutcomeUnknown when the list
        cannot be read, or when the server does not record keys and the list cannot reach back to
        our submit.
        """
        limit = 100
        try:
            listing = await self._transport.request("GET", "/v1/jobs", params={"limit": limit})
        except NaiveError as exc:
            raise SubmissionOutcomeUnknown(
                key, [], f"the job list could not be read: {exc.message}"
            ) from None
        items = [Job.from_api(item, partial=True) for item in listing.json().get("jobs", [])]
        since = started_wall - _RECONCILE_SKEW
        candidates: list[Job] = []
        for job in items:
            if job.idempotency_key is not None:
                self._server_keeps_keys = True
                if job.idempotency_key == key:
                    log.info("naive-nb: found job %s for submit %s; not resending", job.id, key)
                    return job, []
                continue  # someone else's logical submit
            created = job.created_at.timestamp() if job.created_at else None
            recent = created is None or created >= since
            if job.model == model and recent and job.id not in self._known_set:
                candidates.append(job)
        if candidates:
            candidates = await self._rule_out(candidates, data)
        oldest = items[-1].created_at if items else None
        covered = len(items) < limit or (oldest is not None and oldest.timestamp() < since)
        if not candidates and not covered and not self._server_keeps_keys:
            # Our job could sit beyond the newest 100 and nothing would dedupe a resend.
            raise SubmissionOutcomeUnknown(
                key, [], "the job list does not reach back to this submit"
            )
        return None, candidates

    async def _rule_out(self, candidates: list[Job], data: dict[str, Any]) -> list[Job]:
        """Drop candidates whose result shows another request (a different prompt or seed).

        Only a finished job reports them; the rest stay candidates. A few looks at most.
        """
        kept: list[Job] = []
        for index, job in enumerate(candidates):
            if index >= _RULE_OUT_LOOKS:
                kept.extend(candidates[index:])
                break
            try:
                detail, _ = await read_job(self._transport, job.id)
            except NaiveError:
                kept.append(job)
                continue
            result = detail.result or {}
            prompt, seed = result.get("prompt"), result.get("seed")
            other_prompt = isinstance(prompt, str) and prompt != data.get("prompt")
            other_seed = isinstance(seed, int) and "seed" in data and seed != data["seed"]
            if not (other_prompt or other_seed):
                kept.append(detail)
        return kept

    async def _submit_error(self, failed: Failed, model: str, data: dict[str, Any]) -> NaiveError:
        if failed.failure.code == "insufficient_credits":
            price: Price | None = None
            try:
                num = data.get("num_images", 1)
                price = await self._pricing(model, num if isinstance(num, int) else 1)
            except NaiveError:
                price = None  # the price is a courtesy; the 402 is the news
            return self._transport.error(failed, "submit", price=price)
        return self._transport.error(failed, "submit")

    async def _after_interrupted_submit(self, state: _SubmitState, model: str) -> Interrupted:
        """An interrupted submit: find out (briefly) whether it created a job, cancel that job,
        and say what became of it. Never raises; each step is bounded."""
        key = state.key
        pending, state.pending = state.pending, None
        if pending is not None:
            if not pending.done():
                try:
                    await asyncio.wait({pending}, timeout=_INTERRUPT_POST_GRACE)
                finally:  # a second interrupt ends the wait: hang up then too
                    if not pending.done():
                        pending.cancel()  # no answer in time: hang up, look in the job list
            if pending.done() and not pending.cancelled() and pending.exception() is None:
                outcome = pending.result()
                if not isinstance(outcome, Failed):
                    with contextlib.suppress(ValueError):
                        state.job = Job.from_api(outcome.json())
                        self._remember(state.job.id)
        transport = self._transport
        if state.job is not None:
            return await cancel_after_interrupt(
                transport, state.job, f"job {state.job.id} (created by the interrupted submit)"
            )
        if not state.sent:
            return Interrupted(
                "Interrupted before the submit was sent: no job was created.", outcome="not_sent"
            )
        found, candidates, problem = await _look_up_key(
            transport, key, model, self._known_set, self._server_keeps_keys
        )
        if found is not None:
            return await cancel_after_interrupt(
                transport, found, f"job {found.id} (created by the interrupted submit, key {key})"
            )
        if problem:
            return Interrupted(
                f"Interrupted while submitting: could not tell whether the server created a job "
                f"({problem}). Look for idempotency key {key} in client.jobs() and cancel that "
                f"job if it is there; a resubmit with idempotency_key={key!r} cannot create a "
                "second job on a server that honours keys.",
                outcome="unknown",
                idempotency_key=key,
            )
        if candidates:
            ids = ", ".join(job.id for job in candidates[:5])
            return Interrupted(
                "Interrupted while submitting: could not tell whether the server created a job "
                f"(it does not record idempotency keys; this submit's was {key}). Recent jobs "
                f"that could be it: {ids}; check them with client.get(id) and cancel yours.",
                outcome="unknown",
                idempotency_key=key,
                candidates=tuple(job.id for job in candidates),
            )
        return Interrupted(
            f"Interrupted while submitting: the job list shows no job for idempotency key {key}, "
            "so none was created (a request still on its way could yet create one: "
            "client.jobs() shows it if so).",
            outcome="not_created",
            idempotency_key=key,
        )


def raise_interrupted(exc: BaseException, report: Interrupted) -> NoReturn:
    """Re-raise an interrupt with its account: Ctrl-C as the ``Interrupted`` itself, a task
    cancellation as ``CancelledError(report)`` (the sync client re-raises the report)."""
    if isinstance(exc, KeyboardInterrupt):
        raise report from None
    raise asyncio.CancelledError(report) from None


async def cancel_after_interrupt(
    transport: Transport, job: Job, what: str | None = None
) -> Interrupted:
    """Send ``DELETE`` at once (bypassing any rate-limit pause) and say what happened."""
    what = what or f"job {job.id}"
    outcome: httpx.Response | Failed
    try:
        outcome = await asyncio.wait_for(
            transport.send("DELETE", f"/v1/jobs/{job.id}", limited=False, timeout=0.9), 1.0
        )
    except (asyncio.TimeoutError, asyncio.CancelledError):
        outcome = Failed(Failure(Kind.TIMEOUT), None, "no answer within 1 s")
    if not isinstance(outcome, Failed):
        return Interrupted(
            f"Interrupted: {what} was cancelled on the server. If it had already "
            "started, the provider may still finish it and it may still be charged; "
            f"client.get({job.id!r}) shows its final state.",
            outcome="cancelled",
            job_id=job.id,
        )
    if outcome.failure.status == 409:
        return Interrupted(
            f"Interrupted: {what} had already finished, so it was not cancelled; "
            f"collect it with client.get({job.id!r}).",
            outcome="already_finished",
            job_id=job.id,
        )
    detail = outcome.detail or f"HTTP {outcome.failure.status}"
    return Interrupted(
        f"Interrupted: cancelling {what} failed ({detail}); it may still run and be "
        f"charged. Retry client.cancel({job.id!r}).",
        outcome="cancel_failed",
        job_id=job.id,
    )


async def _look_up_key(
    transport: Transport, key: str, model: str, known: set[str], keys_kept: bool
) -> tuple[Job | None, list[Job], str]:
    """One bounded look at the job list for a job carrying ``key``, bypassing any rate-limit
    pause. Returns (the job, [], "") / (None, candidates, "") / (None, [], what failed).
    There are no candidates when the server records keys (``keys_kept``: a job the submit
    created would carry its key), and never a job this client handed out (``known``)."""
    try:
        outcome = await asyncio.wait_for(
            transport.send(
                "GET",
                "/v1/jobs",
                params={"limit": 100},
                limited=False,
                timeout=_INTERRUPT_LOOKUP,
            ),
            _INTERRUPT_LOOKUP + 0.1,
        )
    except (asyncio.TimeoutError, asyncio.CancelledError):
        return None, [], f"the job list did not answer within {_INTERRUPT_LOOKUP:g} s"
    if isinstance(outcome, Failed):
        detail = outcome.detail or f"HTTP {outcome.failure.status}"
        return None, [], f"the job list could not be read: {detail}"
    try:
        jobs = outcome.json().get("jobs", [])
        items = [Job.from_api(item, partial=True) for item in jobs]
    except (ValueError, AttributeError):
        return None, [], "the job list could not be read"
    for job in items:
        if job.idempotency_key == key:
            return job, [], ""
    if any(job.idempotency_key for job in items) or keys_kept:
        return None, [], ""
    recent = [
        job
        for job in items
        if job.model == model and job.status in ("queued", "processing") and job.id not in known
    ]
    return None, recent, ""
