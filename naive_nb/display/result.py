"""The value a run returns to a notebook: its outcome, and how to show it.

It is an ordinary object (``_``, ``-o name`` or ``r = %naive ...``) whose ``_repr_mimebundle_``
returns the grid with the ``{"naive": ...}`` provenance metadata, so it renders the same live,
saved, on GitHub and in nbconvert output. The grid's shape comes from the run's plan
(:mod:`naive_nb.display.layout`); ``result.grid(...)`` lays the same tiles out again
(:mod:`naive_nb.display.figure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from naive_nb.display.arrangement import Arrangement, arrange
from naive_nb.display.figure import Grid
from naive_nb.display.grid import GridLayout, GridSizes
from naive_nb.display.layout import FailureText, axes_of, title_of
from naive_nb.display.views import ViewCache
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.params import pixel_size
from naive_nb.run.records import JobRecord, StoredImage

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
        # the tiles' encodings, kept beside their files: showing the result again encodes none
        self.views = ViewCache()

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

    def grid(
        self,
        cols: str | None = None,
        rows: str | None = None,
        z: str | None = None,
        *,
        where: Mapping[str, Any] | None = None,
        title: str | None = None,
    ) -> Grid:
        """The tiles laid out again, nothing generated: ``cols`` across, ``rows`` down, ``z``
        one section per value (axis names, e.g. ``"seed"``, ``"model"``, ``"steps"``); the axes
        not named fill the free places in the plan's order, further ones become sections too.
        ``where={"model": [...], "seed": 3}`` keeps those values, in that order. The grid shows
        in the notebook; ``.save("compare.png")`` writes the labelled picture with the sweep's
        spec, ``.image`` is that picture, ``.T`` the grid transposed. Raises ``GridError``
        naming the argument and the axes or values it could be."""
        if (cols, rows, z, where, title) == (None, None, None, None, None):
            return self._grid
        arrangement = arrange(axes_of(self.outcome), cols=cols, rows=rows, z=z, where=where)
        return self._make_grid(arrangement, title)

    def _make_grid(self, arrangement: Arrangement | None, title: str | None = None) -> Grid:
        return Grid(
            self.outcome,
            arrangement,
            sizes=self.sizes,
            failure_text=self.failure_text,
            title=title,
            views=self.views,
        )

    @cached_property
    def _grid(self) -> Grid:
        return self._make_grid(None)

    # -- rendering ----------------------------------------------------------------------------
    def layout(self) -> GridLayout:
        return self._grid.layout

    def _title(self) -> str:
        return title_of(self.outcome)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return self._grid._repr_mimebundle_(include, exclude)

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

    def report(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write a study report of this run to ``path``: one self-contained HTML file (the
        grid, labelled; the request, seeds, job ids, credits, dates, backend and version of
        every cell; images inline, no scripts, nothing to fetch). See
        :mod:`naive_nb.display.report`."""
        from naive_nb.display.report import write_report

        return write_report(path, [self], title=title)

    # -- the result as data (issue 10; kept here, at the end of the class, by the sweep's side) --
    def select(self, **values: Any) -> NaiveResult:
        """The cells with these axis values, as a result of their own (it shows as a grid):
        ``r.select(seed=3, model="fal-ai/flux/dev")``, ``r.select(steps=[4, 8])``. An axis is
        named by its label, input key or short name; a value as sent or as its header shows
        it (``"flux/dev"``, ``"3.5"``). Nothing is generated again."""
        return NaiveResult(
            self.outcome.select(**values), sizes=self.sizes, failure_text=self.failure_text
        )

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` with one row per image (a cell without one: one row): each
        axis's value, the model, the seed it ran with, the full input, job id, status
        (``done``, ``cached``, a failure's code, ``not_run``), error (worded as on its tile),
        credits, seconds, file path, sha256 and size. Needs pandas
        (``pip install 'naive-nb[pandas]'``)."""
        import importlib

        try:  # an optional extra, typed as Any (no stubs needed)
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                "to_pandas() needs pandas: pip install 'naive-nb[pandas]' (or pandas)."
            ) from None
        rows = []
        for row in self.outcome.rows():
            failure = row.pop("failure")
            if failure is not None:
                row["error"] = self.failure_text(failure)
            rows.append(row)
        return pandas.DataFrame(rows)
