"""Fault injection: the switches that make the embedded server a test bed for client reliability.

Every field can be changed while the server runs (`server.faults.error_rate = 0.3`); the server
reads them on each request. The dice are seeded, so a fault sequence can be replayed.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency: float = 0.0
    """Seconds added before answering every request."""
    error_rate: float = 0.0
    """Fraction of /v1 requests answered 5xx before anything is done (nothing is created)."""
    error_status: int = 500
    """500 -> `internal_error`; 503 -> `internal_error` with `Retry-After: 1`."""
    error_after_create_rate: float = 0.0
    """Fraction of submits whose job IS created and then a 500 is answered."""
    drop_after_create_rate: float = 0.0
    """Fraction of submits whose job IS created and then the connection closes with no reply."""
    rate_limit_burst: int = 0
    """The next N /v1 requests are answered 429; counts down as they are served."""
    burst_retry_after: int = 2
    job_failure_rate: float = 0.0
    """Fraction of jobs that end `failed` (a prompt containing `[fail]` always fails)."""
    job_failure_message: str = "The provider could not render this image (injected failure)."
    idempotency: bool = True
    """False: `Idempotency-Key` is ignored, as the hosted API may do."""
    forbidden: bool = False
    """Image routes answer 403 `forbidden` (images disabled for the key)."""
    billing_blocked: bool = False
    """Submits answer 402 `billing_blocked` (trial expired)."""
    provider_reject_rate: float = 0.0
    """Fraction of submits answered 502 `provider_error` (nothing is created)."""
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        # setting `seed` on a running server restarts the dice, so a test can replay a sequence
        if name == "seed" and "_lock" in self.__dict__:
            with self._lock:
                self._rng = random.Random(value)  # type: ignore[arg-type]

    def roll(self, rate: float) -> bool:
        """True with probability `rate` (0 and 1 never touch the dice, so they stay exact)."""
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            return self._rng.random() < rate

    def take_burst(self) -> bool:
        """Consume one 429 of a pending burst, if any."""
        with self._lock:
            if self.rate_limit_burst > 0:
                self.rate_limit_burst -= 1
                return True
            return False
