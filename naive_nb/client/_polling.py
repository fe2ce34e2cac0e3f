"""When to look at a job again: a poll schedule paced by the server's ``estimated_seconds``.

Peer SDKs poll at a fixed interval (0.1-2 s), which either floods the API or detects completion
late. Jobs here come with an estimate, but real durations do not keep to it: they spread
+-20 % on a good day, and have a long right tail (log-normal, p95 near 1.8x the median; cold
starts at 3x) on others. A look placed by the estimate alone cannot be both cheap and prompt
over such a spread, so the schedule looks early, reads the job's ``progress``, and predicts:

1. The first look is at ``first`` = 0.6 x the estimate after submit. Nearly every job is still
   running then (7 % of log-normal ones are done, with a lag under 0.15 x for nearly all of
   them), and its progress (about 60 % for a typical job) predicts its end to within
   1/progress.
2. A job still processing that reports ``progress`` from ``MIN_PROGRESS`` % on: with the time it
   has been running, that predicts its end, and the next look goes just after it. Integer
   percentages round down, so the prediction errs late, by at most 1/progress of the run.
   So a job costs at most two looks, whatever its duration, with a lag near 0.03 x the
   estimate. (The first look used to be at 1.04 x the estimate: 60 % of uniform jobs were done
   then, for one look each, but every job that ended well before it waited for it: on a
   log-normal with sigma 0.35, the p95 lag was 0.45 x the estimate. From about 0.65 x on, a
   log-normal with p95 at 2x its median misses the 0.15 x p95 target again.)
3. A job reporting less than ``MIN_PROGRESS`` % (it started just before the look, or is very
   slow) ends no sooner than its progress says: the next look is ``first`` of the way there,
   where its progress is worth reading.
4. Without any progress (an API may not report it): the next look is when a typical run ends
   (start + ``expected_end`` x the estimate); after that (or when a prediction missed), looks
   follow at 0.1 x the estimate, growing x1.5 per look up to ``cap`` seconds. The first look
   was then spent for nothing: a caller that knows progress will not come passes
   ``expect_progress=False``, and the first look is at ``expected_end`` instead.
5. A job still ``queued`` has not started: the schedule starts again from that moment, looking
   ``first`` x the estimate later, growing x1.5 per look that finds it still queued (up to
   ``expected_end``), as a job waiting behind others may wait long. When it evidently waits
   behind other jobs of the same client, the wait looks no sooner than :meth:`first_look`
   after the time the client's lineup expects it to start (``naive_nb.client._lineup``).

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
        first: float = 0.6,
        expected_end: float = 1.04,
        expect_progress: bool = True,
        jitter: float = 0.02,
        predictions: int = 2,
    ) -> None:
        estimate = estimated_seconds if estimated_seconds and estimated_seconds > 0 else None
        self.estimate = estimate if estimate is not None else default_estimate
        self.cap = cap
        self.floor = floor
        # without progress there is nothing to read early: the first look waits for the end
        self.first = first if expect_progress else expected_end
        self.expected_end = expected_end
        self.jitter = jitter  # as a fraction of the estimate
        self._rng = rng or random.Random()
        self._predictions = predictions  # how many progress-based guesses we allow per job
        self._gap = 0.0
        self._queued_looks = 0
        self._start = start
        self.polls = 0
        self._next = start + self._offset(self.first)

    def next_at(self) -> float:
        """The time of the next look (same clock as ``start``); stable until ``observe``."""
        return self._next

    def delay(self, now: float) -> float:
        return max(0.0, self._next - now)

    def first_look(self, start: float, pace: float = 1.0) -> float:
        """When to look at a job that starts running at ``start``: where its first look would
        be, had it been submitted then (its progress is worth reading by that time); ``pace``:
        how long the client's jobs have really run, as a fraction of their estimates."""
        return start + self.first * self.estimate * pace

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
        started = running_since is not None and now > running_since
        if status == "queued":
            # Not started yet: the whole run is still ahead of us.
            growth = min(1.5**self._queued_looks, self.expected_end / self.first)
            self._queued_looks += 1
            target = now + self._offset(self.first * max(1.0, growth))
            self._gap = 0.0
        elif (
            progress is not None
            and MIN_PROGRESS <= progress < 100
            and running_since is not None
            and started
            and self._predictions > 0
        ):
            self._predictions -= 1
            end = running_since + (now - running_since) * 100.0 / progress
            # A little after the predicted end: rendering and the reply take a moment too.
            target = end + max(0.05, 0.02 * self.estimate)
            self._gap = 0.0
        elif (
            progress is not None
            and 0 <= progress < MIN_PROGRESS
            and running_since is not None
            and self._predictions > 0
        ):
            # Too little done to predict from, but it ends no sooner than (progress + 1) %
            # allows: look again `first` of the way there (never sooner than a fresh start).
            least = max(0.0, now - running_since) * 100.0 / (progress + 1)
            target = running_since + self._offset(self.first) * max(1.0, least / self.estimate)
            target = min(target, now + max(self.cap, self.estimate))
        elif progress is None and self._before_expected_end(now, running_since):
            # No progress to read: look when a typical run of this length ends.
            since = running_since if running_since is not None else self._start
            target = since + self._offset(self.expected_end)
        else:
            # Past the expected end, or the predictions missed: dense at first, then backing
            # off to the cap.
            self._gap = min(self.cap, self._gap * 1.5 if self._gap else 0.1 * self.estimate)
            target = now + self._gap
        target = max(target, now + self.floor)
        if retry_after:
            target = max(target, now + retry_after)
        self._next = target

    def _before_expected_end(self, now: float, running_since: float | None) -> bool:
        since = running_since if running_since is not None else self._start
        # less the jitter: a look already placed there, a little early, was that look
        return since + (self.expected_end - self.jitter) * self.estimate > now

    def _offset(self, factor: float) -> float:
        spread = self._rng.uniform(-self.jitter, self.jitter)
        return max(self.floor, (factor + spread) * self.estimate)
