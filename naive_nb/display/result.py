"""The value a run returns to a notebook: its outcome, and how to show it.

It is an ordinary object (``_``, ``-o name`` or ``r = %naive ...``) whose ``_repr_mimebundle_``
returns the grid with the ``{"naive": ...}`` provenance metadata, so it renders the same live,
saved, on GitHub and in nbconvert output. The grid's shape comes from the run's plan
(:mod:`naive_nb.display.layout`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb.display.grid import GridLayout, GridSizes, composite, grid_bundle
from naive_nb.display.layout import FailureText, axes_of, layout, title_of
from naive_nb.display.provenance import output_metadata
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.params import pixel_size
from naive_nb.run.records import JobRecord, StoredImage

if TYPE_CHECKING:  # pragma: no cover
    from PIL.Image import Image

__all__ = ["NaiveResult"]


def plain_failure(failure: FailedJob) -> str:
    """A failed job's tile when no front end words it: what happened, and the server's reason."""
    what = failure.code.replace("_", " ")
    return f"{what}: {failure.reason}" if failure.reason else what


class NaiveResult:
    """The finished jobs (and failed ones) of one run, in the order they were asked."""

    def __init__(
        self,
        outcome: Outcome | Sequence[JobRecord],
        *,
        sizes: GridSizes | None = None,
        failure_text: FailureText | None = None,
    ) -> None:
        if not isinstance(outcome, Outcome):  # records alone: a result without a plan
            outcome = Outcome(records=list(outcome))
        self.outcome = outcome
        self.sizes = sizes or GridSizes()
        self.failure_text = failure_text or plain_failure
        self._bundle: tuple[dict[str, Any], dict[str, Any]] | None = None

    # -- what users reach for ---------------------------------------------------------------
    @property
    def records(self) -> list[JobRecord]:
        return self.outcome.records

    @property
    def failures(self) -> list[FailedJob]:
        return self.outcome.failures

    @property
    def images(self) -> list[StoredImage]:
        return [image for record in self.records for image in record.files]

    @property
    def files(self) -> list[Path]:
        return [image.path for image in self.images]

    @property
    def seeds(self) -> list[int | None]:
        """The seed of each job: the one asked for, else the one the server reported."""
        return [record.seed for record in self.records]

    @property
    def job_ids(self) -> list[str]:
        return [record.job_id for record in self.records]

    @property
    def job(self) -> JobRecord | None:
        """The single job of a one-job run (None for sweeps)."""
        return self.records[0] if len(self.records) == 1 else None

    @property
    def credits(self) -> float:
        """Credits this run spent (results served from the cache cost nothing)."""
        return self.outcome.credits

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def local_preview(self) -> bool:
        return any(record.local_preview for record in self.records)

    def axes(self) -> list[str]:
        """The input keys the grid's axes vary, in order (the first across)."""
        return [axis.key or axis.label for axis in axes_of(self.outcome)]

    def grid(self) -> Image:
        """The labelled composite as a Pillow image."""
        return composite(self.layout(), self.sizes)

    # -- rendering ----------------------------------------------------------------------------
    def layout(self) -> GridLayout:
        return layout(self.outcome, self.failure_text)

    def _title(self) -> str:
        return title_of(self.outcome)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._bundle is None:
            data = grid_bundle(self.layout(), self.sizes)
            failures = [{**f.describe(), "message": self.failure_text(f)} for f in self.failures]
            metadata = output_metadata(self.records, failures=failures, base=Path.cwd())
            self._bundle = (data, metadata)
        return self._bundle

    def __repr__(self) -> str:
        size = ""
        if self.records:
            width, height = pixel_size(self.records[0].input)
            size = f", {width}x{height}"
        failed = f", {len(self.failures)} failed" if self.failures else ""
        return (
            f"<NaiveResult {len(self.images)} images{size}, seeds {self.seeds}{failed}, "
            f"jobs {[j[:8] for j in self.job_ids]}>"
        )
