"""When to look at a job again: a poll schedule paced by the server's ``estimated_seconds``.

Peer SDKs poll at a fixed interval (0.1-2 s), which either floods the API or detects completion
late. Jobs here come with an estimate, and actual durations cluster around it (about +-20 %), so:

1. The first look is just after the estimate (``first`` = 1.04 x estimate after submit). About
   60 % of the jobs are done by then and cost one status request, with a detection lag of at
   most 0.24 x the estimate; the other 40 % get a precise progress-based look (below, lag about
   0.03 x). With durations spread +-20 % around the estimate that puts the median lag near
   0.04 x the estimate at about 1.4 requests per job. (Earlier costs requests: at 1.0 half the
   jobs need a second look; later costs lag: 1.08 measured a median of 0.09-0.13 x.)
2. A job still processing usually reports ``progress``; with the time it has been running, that
   predicts its end, and the next look goes just after it. Integer percentages round down, so
   the prediction errs late by up to 1/progress: trusted from ``MIN_PROGRESS`` % on (an early
   look that reads 1 % of a job 1.7 % done would otherwise plan the next look at 1.7x its end).
3. Without progress, a running job is looked at when a typical run would end (start + estimate);
   after that (or when a prediction missed), looks follow at 0.1 x estimate, growing x1.5 per
   look up to ``cap`` seconds.
4. A job still ``queued`` has not started: the schedule starts again from that moment.

A ``Retry-After`` on a status reply is honoured. The class is sans-IO: times are plain floats
from any monotonic clock, and randomness is injected.
"""

from __future__ import annotations

import random

__all__ = ["PollSchedule"]

# below this, a rounded-down integer percentage predicts the end too late to be worth using
MIN_PROGRESS = 10.0


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
        first: float = 1.04,
        jitter: float = 0.02,
        predictions: int = 2,
    ) -> None:
        estimate = estimated_seconds if estimated_seconds and estimated_seconds > 0 else None
        self.estimate = estimate if estimate is not None else default_estimate
        self.cap = cap
        self.floor = floor
        self.first = first
        self.jitter = jitter  # as a fraction of the estimate
        self._rng = rng or random.Random()
        self._predictions = predictions  # how many progress-based guesses we allow per job
        self._gap = 0.0
        self.polls = 0
        self._next = start + self._first_offset()

    def next_at(self) -> float:
        """The time of the next look (same clock as ``start``); stable until ``observe``."""
        return self._next

    def delay(self, now: float) -> float:
        return max(0.0, self._next - now)

    def observe(
        self,
        *,
        now: float,
        status: str,
        retry_after: float | None = None,
        progress: float | None = None,
        running_since: float | None = None,
    ) -> None:
        """Record a look done at ``now``; plans the next one.

        ``progress`` (0-100) and ``running_since`` (when the job started, on our clock) let the
        schedule predict the job's end.
        """
        self.polls += 1
        if status == "queued":
            # Not started yet: the whole run is still ahead of us.
            target = now + self._first_offset()
            self._gap = 0.0
        elif (
            progress is not None
            and MIN_PROGRESS <= progress < 100
            and running_since is not None
            and now > running_since
            and self._predictions > 0
        ):
            self._predictions -= 1
            end = running_since + (now - running_since) * 100.0 / progress
            # A little after the predicted end: rendering and the reply take a moment too.
            target = end + max(0.05, 0.02 * self.estimate)
            self._gap = 0.0
        elif running_since is not None and running_since + self.first * self.estimate > now:
            # Running, no progress reported: look when a typical run of this length ends.
            target = running_since + self._first_offset()
        else:
            # Dense just after the estimate, then backing off to the cap.
            self._gap = min(self.cap, self._gap * 1.5 if self._gap else 0.1 * self.estimate)
            target = now + self._gap
        target = max(target, now + self.floor)
        if retry_after:
            target = max(target, now + retry_after)
        self._next = target

    def _first_offset(self) -> float:
        spread = self._rng.uniform(-self.jitter, self.jitter)
        return max(self.floor, (self.first + spread) * self.estimate)
