"""How long a run will take, roughly: what the plan line's "about T s" comes from.

A job's time is the median of the jobs of that model this session has seen finish (on its
backend: the local preview engine may run at another speed than the hosted API), else the
documented typical time of the model (``docs/api.md``: FLUX Schnell about 5 s, Dev 10 s...),
else unknown. Jobs run concurrently up to the client's cap on jobs in flight.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from datetime import datetime

from naive_nb.run.records import JobRecord

__all__ = ["JOBS_IN_FLIGHT", "TYPICAL_SECONDS", "Durations", "job_seconds"]

#: the documented typical time of a job, by model (``docs/api.md``)
TYPICAL_SECONDS = {
    "fal-ai/flux/schnell": 5.0,
    "fal-ai/flux/dev": 10.0,
    "fal-ai/flux-pro/v1.1": 15.0,
    "fal-ai/flux-realism": 10.0,
    "fal-ai/recraft-v3": 10.0,
}
#: the jobs the client keeps in flight while its request budget is ample (its default; more go
#: when the budget is short, which only makes a sweep end sooner than this estimate says)
JOBS_IN_FLIGHT = 8
_KEPT = 20  # the latest durations kept per model


def job_seconds(record: JobRecord) -> float | None:
    """How long a job took on the server (``created`` to ``completed``), when both are known."""
    try:
        created = datetime.fromisoformat(str(record.created).replace("Z", "+00:00"))
        completed = datetime.fromisoformat(str(record.completed).replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = (completed - created).total_seconds()
    return seconds if seconds >= 0 else None


class Durations:
    """Job times seen in this session, by backend and model."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(lambda: deque(maxlen=_KEPT))

    def learn(self, records: Iterable[JobRecord]) -> None:
        for record in records:
            seconds = None if record.from_cache else job_seconds(record)
            if seconds is not None:
                self._seen[(record.backend, record.model)].append(seconds)

    def seconds(self, backend: str, model: str) -> float | None:
        seen = self._seen.get((backend, model))
        if seen:
            return statistics.median(seen)
        return TYPICAL_SECONDS.get(model)

    def run_seconds(
        self, backend: str, jobs: Mapping[str, int], in_flight: int = JOBS_IN_FLIGHT
    ) -> float | None:
        """About how long ``jobs`` (a count per model) take, run ``in_flight`` at a time; None
        when a model's time is unknown."""
        times = {model: self.seconds(backend, model) for model, count in jobs.items() if count}
        if not times:
            return 0.0
        if any(t is None for t in times.values()):
            return None
        known = {model: float(t or 0.0) for model, t in times.items()}
        work = sum(jobs[model] * t for model, t in known.items())
        return max(max(known.values()), work / max(1, in_flight))
