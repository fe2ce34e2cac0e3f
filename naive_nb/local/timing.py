"""How long jobs take, and what they report while they run.

Real job times are not a tidy +-20 % around the model's estimate: they have long right tails,
cold starts, a provider queue before a job starts, and some APIs report no `progress` at all.
`Timing` models each of these, so a client's polling can be measured against them. The server
still announces the model's estimate (times `time_scale`) as `estimated_seconds`: reality
deviates from it, as in production.

Every draw is a pure function of (seed, job id), so a job's times are the same every time it
is asked for. The fields can be changed while the server runs (`server.timing.sigma = 0.5`):
durations and queue waits are drawn when a job is submitted, `omit_progress` applies to the
next reply.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from statistics import NormalDist

DISTRIBUTIONS = ("uniform", "lognormal")
_STANDARD_NORMAL = NormalDist()


@dataclass
class Timing:
    distribution: str = "uniform"
    """`uniform`: estimate x (1 +- spread). `lognormal`: median at the estimate, spread by sigma."""
    spread: float = 0.2
    """uniform: each job lasts up to this fraction more or less than the estimate (0 to 1)."""
    sigma: float = 0.35
    """lognormal: the sigma of ln(duration); 0.35 puts p95 at 1.78x the median (p5 at 0.56x)."""
    slow_rate: float = 0.0
    """Fraction of jobs (cold starts, a busy provider) that last `slow_factor` times as long."""
    slow_factor: float = 3.0
    queue_delay: float = 0.0
    """Mean seconds (at time_scale 1) a job stays `queued` before it may start, drawn per job
    from an exponential distribution; before, and apart from, waiting for a free worker."""
    omit_progress: bool = False
    """Job replies carry no `progress` field, as the hosted API may."""
    seed: int = 0
    """Mixed into every draw: another seed gives other (still reproducible) times per job id."""

    def __setattr__(self, name: str, value: object) -> None:
        _check(name, value)
        super().__setattr__(name, value)

    def duration(self, job_id: str, seconds: float) -> float:
        """How long a job whose estimate is `seconds` (already time-scaled) processes."""
        u = self._unit(job_id, "duration")
        if self.distribution == "lognormal":
            factor = math.exp(self.sigma * _STANDARD_NORMAL.inv_cdf(u))
        else:
            factor = 1 + self.spread * (2 * u - 1)
        if self.slow_rate > 0 and self._unit(job_id, "slow") < self.slow_rate:
            factor *= self.slow_factor
        return max(0.0, seconds * factor)

    def queue_wait(self, job_id: str, time_scale: float) -> float:
        """Seconds a job stays `queued` before it may take a worker."""
        if self.queue_delay <= 0:
            return 0.0
        return -self.queue_delay * time_scale * math.log(1 - self._unit(job_id, "queue"))

    def _unit(self, job_id: str, stream: str) -> float:
        """A number in (0, 1), the same for every call with this seed, id and stream."""
        digest = hashlib.sha256(f"{self.seed}:{stream}:{job_id}".encode()).digest()
        return (int.from_bytes(digest[:8], "big") + 0.5) / 2**64


def _check(name: str, value: object) -> None:
    """Refuse a value that would make nonsense of every later job, naming the field."""

    def fail(allowed: str) -> None:
        raise ValueError(f"Timing.{name} must be {allowed}, got {value!r}.")

    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = float(value) if is_number else math.nan  # type: ignore[arg-type]
    if name == "distribution" and value not in DISTRIBUTIONS:
        fail("one of: " + ", ".join(DISTRIBUTIONS))
    elif name in ("spread", "slow_rate") and not 0 <= number <= 1:
        fail("a fraction from 0 to 1")
    elif name == "sigma" and not 0 <= number <= 3:
        fail("a number from 0 to 3")
    elif name == "slow_factor" and not 0 < number <= 1000:
        fail("a number above 0 (and at most 1000)")
    elif name == "queue_delay" and not 0 <= number < math.inf:
        fail("0 or more seconds")
    elif name == "omit_progress" and not isinstance(value, bool):
        fail("True or False")
    elif name == "seed" and (not isinstance(value, int) or isinstance(value, bool)):
        fail("an integer")
