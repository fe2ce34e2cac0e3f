"""Runs on record, and a run rebuilt from what it left: the names the rest of the package uses.

This module only gathers them; each concern has its own module:

- :mod:`naive_nb.run.rebuilt`: the data, :class:`RunRecord` (a run rebuilt from what it left)
  and its :class:`RecordedJob`;
- :mod:`naive_nb.run.runbook`: the store's run records, ``<store>/_runs/<id>.json``, written
  when a planned run finishes (:func:`run_id`, :func:`run_json`, :class:`RunBook`) and read
  back (:func:`read_run_file`, :func:`read_run`);
- :mod:`naive_nb.run.sources`: a run rebuilt from the other things it leaves, a job's manifest
  (:func:`read_manifest`), a stored image (:func:`read_stored_image`), an output's
  ``{"naive": ...}`` metadata (:func:`read_output`), a saved grid's spec (:func:`read_grid`);
- :mod:`naive_nb.run.replan`: :func:`replan`, the request planned again and checked to make the
  recorded jobs (the same request keys), so a re-run is the same jobs.
"""

from __future__ import annotations

from naive_nb.run.rebuilt import RecordedJob, RunRecord
from naive_nb.run.replan import replan
from naive_nb.run.runbook import (
    RUN_KIND,
    RUNS_DIR,
    RunBook,
    read_run,
    read_run_file,
    run_id,
    run_json,
)
from naive_nb.run.sources import (
    GRID_KIND,
    read_grid,
    read_manifest,
    read_output,
    read_stored_image,
    request_of_jobs,
)

__all__ = [
    "GRID_KIND",
    "RUNS_DIR",
    "RUN_KIND",
    "RecordedJob",
    "RunBook",
    "RunRecord",
    "read_grid",
    "read_manifest",
    "read_output",
    "read_run",
    "read_run_file",
    "read_stored_image",
    "replan",
    "request_of_jobs",
    "run_id",
    "run_json",
]
