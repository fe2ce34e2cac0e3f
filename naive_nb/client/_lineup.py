"""When a job that waits in the server's queue behind others of ours should reach a worker.

A client that has more jobs in flight than the server runs for it at once (a sweep) has most of
them ``queued``, and looking at one of those tells nothing new until a worker frees for it. The
:class:`Lineup` keeps this client's jobs in flight in the order the server accepted them, with
what their looks showed (queued; running, since when, and until about when), and answers when
a job is expected to start: the server's workers (as many as it was seen to run for us at once)
take the jobs in that order, each worker freeing when its job is predicted to end.

Jobs are taken to run as long as their estimate, or shorter when ours of the same model that
ended ran shorter than the server's estimate (the median of the latest, as a fraction of it): an
estimate that is pessimistic (a cautious figure, a warm cache) would otherwise put looks off by
whole estimates. A job running longer than its estimate is not taken to: a look made too early
is the safe mistake.

It only speaks from evidence, so a wait alone, or a server that is not working through our
jobs in order, keeps its own schedule:

- how many jobs the server runs for us (``capacity``) is learnt when a job is seen ``queued``
  while older jobs of ours are not: as many as those older jobs (counting older ones not looked
  at yet as running: too many workers only costs an early look, too few a late one);
- a job seen queued may wait for the provider rather than behind ours: the lineup predicts only
  while its last two sightings of waiting jobs agree on the capacity (a queue behind a full
  server: the count stays; jobs held up by a provider's delays, with free workers, give a count
  that grows with every sighting);
- a job seen running while an older one was seen still queued (or a younger one running when
  an older is seen queued) means the server does not take our jobs in order: from then on the
  lineup predicts nothing.

Sans-IO: times are floats from one monotonic clock; the wait loop feeds it each look.
"""

from __future__ import annotations

import heapq
import statistics
from collections import deque
from dataclasses import dataclass

__all__ = ["Lineup"]

_FREED_KEPT = 64  # finished jobs whose end times are kept (more than any server runs for us)
_PACE_KEPT = 8  # the latest ended jobs whose run time, against their estimate, sets the pace
# A start this close before a look that showed an older job still queued is not taken for a
# job overtaking it (the two clocks behind a start time agree to about this much).
_OVERTAKE_MARGIN = 0.25


@dataclass
class _Entry:
    accepted: float  # when the server accepted it (our clock): its place in line
    seconds: float  # how long it is expected to run
    model: str = ""
    estimate: float | None = None  # the server's estimate (``seconds`` may be learnt since)
    queued_at: float | None = None  # the last look that found it queued
    running_since: float | None = None  # seen running (or finished) since then
    ends: float | None = None  # when it is predicted to end, while running


class Lineup:
    def __init__(self) -> None:
        self._jobs: dict[str, _Entry] = {}
        # when our latest finished jobs ended: the workers they held are free since then
        self._freed: deque[float] = deque(maxlen=_FREED_KEPT)
        # per model: how long our latest ended jobs ran, as a fraction of the server's estimate
        self._ran: dict[str, deque[float]] = {}
        self.capacity: int | None = None
        # the last sightings of jobs waiting behind ours: (job, how many older ones held workers)
        self._sightings: deque[tuple[str, int]] = deque(maxlen=2)
        self.in_order = True
        #: bumped whenever a prediction may have moved: waits deferred by the lineup plan again
        self.changes = 0

    @property
    def active(self) -> bool:
        """Whether the lineup predicts anything: jobs taken in order, and the last two jobs seen
        waiting (two different ones) behind the same number of ours."""
        if not self.in_order or len(self._sightings) < 2:
            return False
        (first, held), (second, holds) = self._sightings
        return first != second and held == holds

    def add(
        self,
        job_id: str,
        *,
        accepted: float,
        seconds: float,
        model: str = "",
        estimate: float | None = None,
    ) -> None:
        """A job in flight: accepted then, expected to run ``seconds``; ``model`` and the
        server's ``estimate`` let the lineup learn how long that model's jobs really run."""
        if job_id not in self._jobs:
            self._jobs[job_id] = _Entry(accepted, seconds, model, estimate)
            self._moved(self.active)

    def remove(self, job_id: str) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self._moved(self.active)

    def saw(
        self,
        job_id: str,
        *,
        now: float,
        status: str,
        progress: float | None = None,
        running_since: float | None = None,
        ended: float | None = None,
    ) -> None:
        """Record a look at a job. A finished one leaves the line, and its worker is free since
        it ``ended`` (when known; else since this look)."""
        entry = self._jobs.get(job_id)
        if entry is None:
            return
        if status not in ("queued", "processing"):
            self._freed.append(min(now, ended) if ended is not None else now)
            started = running_since if running_since is not None else entry.running_since
            if status == "completed" and started is not None and ended is not None:
                ran = max(0.0, ended - started)
                if entry.estimate:
                    kept = self._ran.setdefault(entry.model, deque(maxlen=_PACE_KEPT))
                    kept.append(ran / entry.estimate)
            self.remove(job_id)
            return
        was_active = self.active
        if status == "queued":
            self._saw_queued(job_id, entry, now)
        else:
            self._saw_running(entry, now, progress, running_since)
        self._moved(was_active)

    def _saw_queued(self, job_id: str, entry: _Entry, now: float) -> None:
        entry.queued_at, entry.running_since, entry.ends = now, None, None
        others = list(self._jobs.values())
        if any(e.accepted > entry.accepted and e.running_since is not None for e in others):
            self.in_order = False  # a younger job started while this one waits
        # older jobs not seen waiting hold the workers it waits for
        holding = sum(1 for e in others if e.accepted < entry.accepted and e.queued_at is None)
        if holding:
            self.capacity = holding
            self._sightings.append((job_id, holding))

    def _saw_running(
        self, entry: _Entry, now: float, progress: float | None, running_since: float | None
    ) -> None:
        since = running_since if running_since is not None else now
        entry.queued_at, entry.running_since = None, since
        for other in self._jobs.values():
            waiting = other.queued_at
            if waiting is None or other.accepted >= entry.accepted:
                continue
            if waiting > since + _OVERTAKE_MARGIN:
                self.in_order = False  # it started while an older job was seen waiting
        if progress is not None and 0 < progress < 100 and now > since:
            entry.ends = since + (now - since) * 100.0 / progress
        else:
            entry.ends = max(now, since + self._expected(entry))

    def pace(self, job_id: str) -> float:
        """How long the job is taken to run, as a fraction of its expected ``seconds``: below 1
        when ours of its model have run shorter than the server's estimate (1 when unknown)."""
        entry = self._jobs.get(job_id)
        if entry is None or entry.seconds <= 0:
            return 1.0
        return self._expected(entry) / entry.seconds

    def _expected(self, entry: _Entry) -> float:
        """How long ``entry`` is taken to run: its ``seconds``, or less when its model's jobs
        have run shorter than the server's estimate (never more)."""
        ran = self._ran.get(entry.model)
        if not ran or not entry.estimate:
            return entry.seconds
        return min(entry.seconds, entry.estimate * statistics.median(ran))

    def _moved(self, was_active: bool) -> None:
        if was_active or self.active:
            self.changes += 1

    def start_of(self, job_id: str) -> float | None:
        """When the job is expected to reach a worker, while it is evidently behind others of
        ours (None: not known to be; running; or the lineup has no evidence to go on)."""
        entry = self._jobs.get(job_id)
        if entry is None or entry.running_since is not None or not self.active:
            return None
        assert self.capacity is not None
        busy = [e.ends for e in self._jobs.values() if e.ends is not None]
        # the other workers are free since our latest jobs on them ended; any beyond those are
        # taken to be free all along (an early look is the safe mistake)
        idle = max(0, self.capacity - len(busy))
        freed = sorted(self._freed)[-idle:] if idle else []
        free = busy + freed + [float("-inf")] * (idle - len(freed))
        heapq.heapify(free)
        for other in sorted(self._jobs.values(), key=lambda e: e.accepted):
            if other is entry:
                break
            if other.running_since is None:  # waiting ahead of it: takes the next free worker
                start = max(heapq.heappop(free), other.accepted)
                heapq.heappush(free, start + self._expected(other))
        start = max(heapq.heappop(free), entry.accepted)
        return start if start > entry.accepted else None
