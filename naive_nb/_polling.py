"""When to look at a job again: a poll schedule paced by the server's ``estimated_seconds``.

Peer SDKs poll at a fixed interval (0.1-2 s), which either floods the API or detects completion
late. Jobs here come with an estimate, and actual durations cluster around it, so the schedule
looks first shortly before the estimate, densely around it, then backs off to a cap:

    offsets (x estimate): 0.85, 0.95, 1.05, 1.15, 1.3, then x1.5 per look up to ``cap`` seconds

A job still ``queued`` when we look has not started, so the schedule restarts from that moment.
A ``Retry-After`` on a status reply is honoured. The class is sans-IO: times are plain floats
from any monotonic clock, and randomness is injected.
"""

from __future__ import annotations

import random

__all__ = ["PollSchedule"]

# Looks around the estimate, as fractions of it. Durations spread about +-20 % around it; a step
# of 0.1 x estimate keeps the detection lag near 0.05 x estimate for jobs that finish on time.
_DENSE = (0.85, 0.95, 1.05, 1.15, 1.3)


class PollSchedule:
    def __init__(
        self,
        estimated_seconds: float | None,
        *,
        start: float,
        rng: random.Random | None = None,
        cap: float = 10.0,
        floor: float = 0.02,
        default_estimate: float = 5.0,
        jitter: float = 0.25,
    ) -> None:
        estimate = estimated_seconds if estimated_seconds and estimated_seconds > 0 else None
        self.estimate = estimate if estimate is not None else default_estimate
        self.cap = cap
        self.floor = floor
        self.jitter = jitter  # as a fraction of one dense step (0.1 x estimate)
        self._rng = rng or random.Random()
        self._anchor = start
        self._index = 0  # looks done since the anchor
        self._last_look = start
        self._not_before = start
        self._next = self._plan()

    @property
    def polls(self) -> int:
        return self._index

    def next_at(self) -> float:
        """The time of the next look (same clock as ``start``); stable until ``observe``."""
        return max(self._next, self._not_before)

    def delay(self, now: float) -> float:
        return max(0.0, self.next_at() - now)

    def observe(self, *, now: float, status: str, retry_after: float | None = None) -> None:
        """Record a look done at ``now`` that saw ``status``; plans the next one."""
        self._index += 1
        self._last_look = now
        if status == "queued":
            # Not started yet: the whole run is still ahead of us, so start counting again.
            self._anchor = now
            self._index = 0
        self._not_before = now + retry_after if retry_after else now
        self._next = max(self._plan(), now + self.floor)

    def _offset(self, index: int) -> float:
        if index < len(_DENSE):
            return _DENSE[index] * self.estimate
        # Beyond the dense window, grow the gap by 1.5x per look until it reaches the cap.
        offset = _DENSE[-1] * self.estimate
        gap = (_DENSE[-1] - _DENSE[-2]) * self.estimate
        for _ in range(index - len(_DENSE) + 1):
            gap = min(self.cap, max(gap * 1.5, self.floor))
            offset += gap
        return offset

    def _plan(self) -> float:
        target = self._anchor + self._offset(self._index)
        step = 0.1 * self.estimate
        target += self._rng.uniform(-self.jitter, self.jitter) * step
        # Never look again sooner than `floor` after the last look (tiny estimates in tests).
        return max(target, self._last_look + self.floor)
