"""What the embedded server remembers: tenants with their credits ledger, jobs, idempotency
replies and rate-limit windows. Everything lives in memory for as long as the server runs.

All of it is touched from the server's single event loop, so plain dicts suffice; the job
engine's render threads never write here.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

IDEMPOTENCY_WINDOW = 24 * 3600.0


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Job:
    id: str
    tenant: str
    model: str
    input: dict[str, Any]
    estimated_seconds: float
    estimated_credits: float
    duration: float  # seconds this job processes for, after time scaling
    created_at: float
    queue_wait: float = 0.0  # seconds it stays queued before it may take a worker (scaled)
    idempotency_key: str | None = None
    status: str = "queued"
    started_at: float | None = None
    completed_at: float | None = None
    started_mono: float | None = None
    error: dict[str, str] | None = None
    credits_used: float = 0.0
    result: dict[str, Any] | None = None
    media: list[dict[str, str]] = field(default_factory=list)
    provider_request_id: str = field(default_factory=lambda: "req-" + uuid.uuid4().hex[:12])

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    def progress(self, now_mono: float) -> int:
        if self.status == "completed":
            return 100
        if self.status != "processing" or self.started_mono is None:
            return 0
        if self.duration <= 0:
            return 99
        return min(99, int(100 * (now_mono - self.started_mono) / self.duration))

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"estimated_seconds": self.estimated_seconds}
        if self.idempotency_key is not None:
            meta["idempotency_key"] = self.idempotency_key
        return meta

    def summary(self, now_mono: float, *, with_progress: bool = True) -> dict[str, Any]:
        """The shape of a `GET /v1/jobs` list item (no result); `progress` only if asked for."""
        item: dict[str, Any] = {"id": self.id, "type": "image_generation", "status": self.status}
        if with_progress:
            item["progress"] = self.progress(now_mono)
        return {
            **item,
            "model": self.model,
            "created_at": iso(self.created_at),
            "metadata": self.metadata(),
        }

    def detail(self, now_mono: float, *, with_progress: bool = True) -> dict[str, Any]:
        """The shape of `GET /v1/jobs/{id}`."""
        return {
            **self.summary(now_mono, with_progress=with_progress),
            "media": list(self.media),
            "result": self.result,
            "error": self.error,
            "credits_used": self.credits_used,
            "provider_request_id": self.provider_request_id,
            "started_at": iso(self.started_at),
            "completed_at": iso(self.completed_at),
        }


@dataclass
class Transaction:
    id: str
    action: str
    amount: float
    reference: str
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "amount": self.amount,
            "reference": self.reference,
            "created_at": iso(self.created_at),
        }


@dataclass
class Tenant:
    name: str
    balance: float
    tier: str = "pro"
    jobs: dict[str, Job] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)
    period_end: float = field(default_factory=lambda: time.time() + 30 * 86400)

    @property
    def overdraft(self) -> str | None:
        """The balance and why it is below zero, when it is; else None.

        The hosted API's ledger allows it: credits are checked at submit and charged at
        completion, so jobs that passed the check together can complete for more than was left.
        A bare negative figure reads as a bug, so it always comes with this reason.
        """
        if self.balance >= 0:
            return None
        return (
            f"the balance is {self.balance:g} credits: jobs accepted while it covered each of "
            "them completed after it had run out, and were charged (credits are checked at "
            "submit and charged on completion)"
        )

    def charge(self, job: Job, credits: float) -> None:
        self.balance = round(self.balance - credits, 6)
        job.credits_used = credits
        self.transactions.append(
            Transaction(new_id(), "job_completion", -credits, job.id, time.time())
        )

    def usage(self, days: int, limit: int) -> dict[str, Any]:
        since = time.time() - days * 86400
        recent = [t for t in self.transactions if t.created_at >= since]
        recent.sort(key=lambda t: t.created_at, reverse=True)
        spent = -sum(t.amount for t in recent)
        return {
            "balance": self.balance,
            **self._overdraft_note(),
            "tier": self.tier,
            "transactions": [t.to_json() for t in recent[:limit]],
            "summary": {
                "days": days,
                "credits_spent": round(spent, 6),
                "jobs_completed": sum(1 for t in recent if t.action == "job_completion"),
                "period_start": iso(since),
                "period_end": iso(time.time()),
            },
        }

    def _overdraft_note(self) -> dict[str, str]:
        overdraft = self.overdraft
        return {"note": f"{overdraft[0].upper()}{overdraft[1:]}."} if overdraft else {}

    def status(self) -> dict[str, Any]:
        period_end = datetime.fromtimestamp(self.period_end, tz=timezone.utc)
        return {
            "agent": {"id": f"agent-{self.name}", "name": "naive-nb local agent"},
            "company": {"id": f"company-{self.name}", "name": "naive-nb local preview"},
            "credits": {
                "balance": self.balance,
                **self._overdraft_note(),
                "tier": self.tier,
                "period_end": (period_end + timedelta()).isoformat().replace("+00:00", "Z"),
            },
        }


@dataclass
class StoredReply:
    fingerprint: str
    status: int
    body: dict[str, Any]
    stored_at: float


class IdempotencyStore:
    """First replies per (tenant, key), replayed for 24 h. Unlike Naive's, it fingerprints the body,
    so a key reused for a different request is refused rather than answered with the wrong job."""

    def __init__(self) -> None:
        self._replies: dict[tuple[str, str], StoredReply] = {}

    def get(self, tenant: str, key: str) -> StoredReply | None:
        reply = self._replies.get((tenant, key))
        if reply is not None and time.time() - reply.stored_at > IDEMPOTENCY_WINDOW:
            del self._replies[(tenant, key)]
            return None
        return reply

    def put(
        self, tenant: str, key: str, fingerprint: str, status: int, body: dict[str, Any]
    ) -> None:
        self._replies[(tenant, key)] = StoredReply(fingerprint, status, body, time.time())


class RateLimiter:
    """A fixed one-minute window per tenant, as the `X-RateLimit-Reset` header (Unix seconds of
    the window's end) suggests Naive uses."""

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, tenant: str, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request; return whether it is allowed and the headers to send."""
        limit = self.per_minute if self.per_minute is not None else 10**9
        start, count = self._windows.get(tenant, (now, 0))
        if now - start >= 60:
            start, count = now, 0
        allowed = count < limit
        if allowed:
            count += 1
        self._windows[tenant] = (start, count)
        reset = start + 60
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - count)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
        return allowed, headers
