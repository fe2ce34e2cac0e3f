"""A study report: one self-contained HTML file of one run or several (``r.report("study.html")``).

Made to be read anywhere: offline, in any browser, attached to a mail. One file; every image is
inline as a ``data:`` URI; inline styles only (mail clients drop ``<style>``); no script, no font
or stylesheet to fetch, no link out of the file (the only links go to its own sections), and no
path of the machine that made it (file paths are relative to the report's folder).

For each run, in order:

- a heading (its number and prompt) and one line: images, grid shape and axes, model, jobs
  (made, from the store, failed), credits, backend, dates;
- the grid, labelled as in the notebook (the same renderer: headers, sections, failed tiles,
  the local-preview notice), drawn wider and sharper for reading, without links to files;
- the run: prompt, models, seeds, axes and their values, what every job shares, backend,
  credits (when made, and spent by the run that made the report), dates, naive-nb versions, the
  run record's id, and the request as JSON (``Request.from_json`` gives it back);
- one row per cell: its place on the axes, model, seed, status, job id, credits, dates,
  backend, naive-nb version, the full input sent, and its files (size, sha256).

**Bytes.** The grid's images are JPEGs sized for a 960 px column at up to 2 image pixels per
CSS pixel, within 250 KB for one image up to 1.2 MB for 16 or more (:data:`REPORT_SIZES`;
quality drops first, then pixel density, the same for every tile, as in the notebook); a report
of several runs stays within :data:`REPORT_BUDGET` (10 MB) of images, each run's share in
proportion to its images, so it still goes through mail (25 MB with the attachment encoding).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb._version import __version__
from naive_nb.display.grid_html import html_view
from naive_nb.display.grid_model import (
    LOCAL_PREVIEW_LABEL,
    Cell,
    GridLayout,
    GridSizes,
    Pack,
    Tile,
)
from naive_nb.display.paths import shown_path
from naive_nb.display.provenance import jsonable, request_json
from naive_nb.display.tile_words import failure_heading
from naive_nb.run.outcome import Cell as RunCell
from naive_nb.run.outcome import FailedJob, Outcome
from naive_nb.run.records import JobRecord
from naive_nb.run.runs import RUNS_DIR, run_id

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.display.result import NaiveResult

__all__ = ["REPORT_BUDGET", "REPORT_SIZES", "report_html", "write_report"]

#: how a report draws a grid: a 960 px column, sharp on HiDPI screens, more bytes than a notebook
REPORT_SIZES = GridSizes(
    width=960,
    single_min=512,
    single_height=720,
    density=2.0,
    one_image_bytes=250_000,
    sixteen_images_bytes=1_200_000,
    metadata_bytes_per_image=0,  # the report's tables are not part of a grid's image budget
)
#: bytes of images a whole report may hold (its runs share it in proportion to their images)
REPORT_BUDGET = 10_000_000

_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_TEXT = "#1f2328"
_GREY = "#57606a"
_ORANGE = "#c45a00"
_RED = "#b21818"
_LINE = "#d0d7de"
_TABLE = "border-collapse:collapse;margin:4px 0 12px 0;font-size:12px"
_TD = f"border:1px solid {_LINE};padding:3px 6px;vertical-align:top;text-align:left"
_TH = _TD + ";background:#f6f8fa;font-weight:600"
_CODE = (
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;"
    "white-space:pre-wrap;overflow-wrap:anywhere"
)
_PRE = _CODE + f";background:#f6f8fa;border:1px solid {_LINE};padding:6px;margin:4px 0 12px 0"


def write_report(
    path: str | os.PathLike[str],
    results: Sequence[NaiveResult],
    *,
    title: str | None = None,
) -> Path:
    """Write the report of ``results`` (in order) to ``path`` (its folder made if need be);
    returns the path."""
    from naive_nb.run.store import write_atomic

    target = Path(path)
    text = report_html(results, title=title, base=target.resolve().parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text.encode("utf-8"))
    return target


def report_html(
    results: Sequence[NaiveResult],
    *,
    title: str | None = None,
    base: Path | None = None,
    made: datetime | None = None,
    sizes: GridSizes = REPORT_SIZES,
    budget: int = REPORT_BUDGET,
) -> str:
    """The report of ``results`` as one HTML document (see the module docstring). ``base`` is
    the folder file paths are shown relative to (the report's; default the working one)."""
    esc = html.escape
    base = base or Path.cwd()
    made = made or datetime.now(timezone.utc)
    heading = title or "naive-nb study report"
    images = [max(1, len(r.layout().tiles)) for r in results]
    total = sum(images) or 1
    outcomes = [r.outcome for r in results]
    records = _unique_records(outcomes)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="naive-nb {esc(__version__)}">',
        f"<title>{esc(heading)}</title></head>",
        f'<body style="{_FONT};color:{_TEXT};background:#ffffff;margin:0;padding:16px 24px;'
        'max-width:1040px;font-size:14px;line-height:1.45">',
        f'<h1 style="font-size:24px;margin:0 0 4px 0">{esc(heading)}</h1>',
        f'<p style="margin:0 0 12px 0;color:{_GREY}">'
        + esc(
            f"Made by naive-nb {__version__} on {made.strftime('%Y-%m-%d %H:%M')} UTC. "
            f"{_count(len(results), 'run')}, {_count(_image_count(records), 'image')}, "
            f"{_count(len(records), 'job')}; {_credits(records)} credits when made. "
            "Everything is in this one file: images inline, no scripts, no links out."
        )
        + "</p>",
    ]
    if any(r.local_preview for r in records):
        parts.append(f'<p style="margin:0 0 12px 0;color:{_ORANGE}">{esc(_PREVIEW_NOTE)}</p>')
    if len(results) > 1:
        items = "".join(
            f'<li><a href="#run-{n}">{esc(_run_name(r.outcome))}</a></li>'
            for n, r in enumerate(results, start=1)
        )
        parts.append(f'<ol style="margin:0 0 16px 0;padding-left:24px">{items}</ol>')
    for n, result in enumerate(results, start=1):
        share = min(1.0, budget * images[n - 1] / total / sizes.budget(images[n - 1]))
        parts.append(_run_section(n, result, base, _scaled(sizes, share)))
    parts.append(
        f'<p style="margin:24px 0 0 0;color:{_GREY};font-size:12px">'
        + esc(_REBUILD_NOTE)
        + "</p></body></html>"
    )
    return "\n".join(parts) + "\n"


_PREVIEW_NOTE = (
    f"{LOCAL_PREVIEW_LABEL}: the images marked so were drawn by naive-nb's embedded server, a "
    "procedural stand-in for the hosted models, not by a real model."
)
_REBUILD_NOTE = (
    "To run any of these again: the request of each run is given above as JSON "
    "(naive_nb.run.Request.from_json gives it back), and naive_nb.load_run() rebuilds a run "
    "from its run record, a job's manifest, a saved notebook output or a saved grid. A seeded "
    "request re-run where its store is kept is served from it: no request, no credits."
)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _scaled(sizes: GridSizes, share: float) -> GridSizes:
    if share >= 1.0:
        return sizes
    return replace(
        sizes,
        one_image_bytes=int(sizes.one_image_bytes * share),
        sixteen_images_bytes=int(sizes.sixteen_images_bytes * share),
    )


def _unique_records(outcomes: Iterable[Outcome]) -> list[JobRecord]:
    """Each job once, over every run (a job served from the store to several runs is one)."""
    found: dict[str, JobRecord] = {}
    for outcome in outcomes:
        for record in outcome.records:
            found.setdefault(record.job_id, record)
    return list(found.values())


def _image_count(records: Iterable[JobRecord]) -> int:
    return sum(len(record.files) for record in records)


def _credits(records: Iterable[JobRecord]) -> str:
    return _number(sum(record.credits_used or 0.0 for record in records))


def _number(value: float) -> str:
    return f"{round(value, 6):g}"


def _prompt(outcome: Outcome) -> str:
    prompts = [str(c.job.input.get("prompt", "")) for c in outcome.cells()]
    if outcome.plan is not None and outcome.plan.request.prompt:
        return outcome.plan.request.prompt
    return prompts[0] if len(set(prompts)) == 1 else " / ".join(dict.fromkeys(prompts))


def _run_name(outcome: Outcome) -> str:
    prompt = _prompt(outcome)
    return prompt if len(prompt) <= 80 else prompt[:77] + "..."


# -- one run --------------------------------------------------------------------------------------
def _run_section(number: int, result: NaiveResult, base: Path, sizes: GridSizes) -> str:
    esc = html.escape
    outcome = result.outcome
    cells = outcome.cells()
    parts = [
        f'<section id="run-{number}" style="margin:0 0 32px 0;padding-top:8px;'
        f'border-top:2px solid {_LINE}">',
        f'<h2 style="font-size:19px;margin:4px 0">{number}. {esc(_run_name(outcome))}</h2>',
        f'<p style="margin:0 0 8px 0;color:{_GREY}">{esc(_summary(result, cells))}</p>',
        _grid_html(result, sizes),
        '<h3 style="font-size:15px;margin:12px 0 2px 0">The run</h3>',
        _facts_table(result, cells, base),
    ]
    if outcome.plan is not None:
        spec = json.dumps(request_json(outcome.plan.resolved), sort_keys=True, ensure_ascii=False)
        parts.append(
            f'<p style="margin:0;color:{_GREY}">The request, as '
            "<code>Request.to_json()</code> gives it (seeds concrete):</p>"
            f'<pre style="{_PRE}">{esc(spec)}</pre>'
        )
    parts.append(
        f'<h3 style="font-size:15px;margin:12px 0 2px 0">{_count(len(cells), "cell")}</h3>'
    )
    parts.append(_cells_table(result, cells, base))
    parts.append("</section>")
    return "\n".join(parts)


def _grid_html(result: NaiveResult, sizes: GridSizes) -> str:
    layout = result.grid().layout
    if not layout.tiles:
        return f'<p style="color:{_GREY}">No images.</p>'
    view = html_view(_without_links(layout), sizes, views=result.views)
    return f'<div style="overflow-x:auto;margin:4px 0 8px 0">{view.html}</div>'


def _without_links(layout: GridLayout) -> GridLayout:
    """The grid without links to its files (they are not in the report) or the notebook's note
    about them: the tables below say where each file was."""

    def unlinked(cell: Cell) -> Cell:
        if isinstance(cell, Pack):
            return Pack(tuple(replace(tile, path=None) for tile in cell.tiles))
        if isinstance(cell, Tile):
            return replace(cell, path=None)
        return cell

    rows = tuple(tuple(unlinked(cell) for cell in row) for row in layout.rows)
    return replace(layout, rows=rows, note="")


def _summary(result: NaiveResult, cells: Sequence[RunCell]) -> str:
    outcome = result.outcome
    plan = outcome.plan
    images = sum(len(r.files) for r in outcome.records)
    parts = [_count(images, "image")]
    if plan is not None and plan.axes:
        parts[0] += " over " + " x ".join(f"{a.label} ({len(a.values)})" for a in plan.axes)
    models = list(dict.fromkeys(c.job.model for c in cells))
    parts.append(models[0] if len(models) == 1 else _count(len(models), "model"))
    statuses = [c.status for c in cells if c.same_as is None]
    made, cached = statuses.count("done"), statuses.count("cached")
    jobs = f"{_count(len(statuses), 'job')} ({made} made, {cached} from the store"
    failed = len(statuses) - made - cached
    parts.append(jobs + (f", {failed} without an image)" if failed else ")"))
    parts.append(f"{_credits(outcome.records)} credits when made")
    backends = sorted({r.backend for r in outcome.records if r.backend})
    if backends:
        parts.append("backend " + ", ".join(backends))
    created = sorted(r.created for r in outcome.records if r.created)
    if created:
        parts.append(f"made {created[0][:19].replace('T', ' ')} UTC")
    return " | ".join(parts)


def _row(header: str, value: str, *, code: bool = False) -> str:
    shown = f'<code style="{_CODE}">{html.escape(value)}</code>' if code else html.escape(value)
    name = f'<th style="{_TH};width:180px">{html.escape(header)}</th>'
    return f'<tr>{name}<td style="{_TD}">{shown}</td></tr>'


def _facts_table(result: NaiveResult, cells: Sequence[RunCell], base: Path) -> str:
    outcome = result.outcome
    plan = outcome.plan
    records = outcome.records
    rows = [_row("prompt", _prompt(outcome))]
    models = list(dict.fromkeys(c.job.model for c in cells))
    rows.append(_row("model" if len(models) == 1 else "models", ", ".join(models)))
    seeds = list(dict.fromkeys(c.seed for c in cells if c.seed is not None))
    rows.append(_row("seeds", ", ".join(str(s) for s in seeds) or "none (the model takes none)"))
    if plan is not None and plan.chosen_seed is not None:
        rows.append(_row("seed drawn", f"{plan.chosen_seed} (no seed was given; drawn and kept)"))
    if plan is not None:
        for axis in plan.axes:
            values = ", ".join(axis.show(value) for value in axis.values)
            rows.append(_row(f"axis {axis.label}", values))
        if plan.request.vary_seeds:
            rows.append(_row("seeds vary along", ", ".join(plan.request.vary_seeds)))
    shared = _shared_input(cells)
    if shared:
        rows.append(_row("every job sends", _json(shared), code=True))
    backends = sorted({r.backend for r in records if r.backend})
    preview = " (naive-nb's embedded server: local preview)" if result.local_preview else ""
    rows.append(_row("backend", (", ".join(backends) or "-") + preview))
    spent = _number(outcome.credits)
    rows.append(
        _row(
            "credits",
            f"{_credits(records)} when the jobs were made; {spent} spent by the run shown "
            "(a job served from the store costs nothing)",
        )
    )
    created = sorted(r.created for r in records if r.created)
    completed = sorted(r.completed for r in records if r.completed)
    if created:
        rows.append(_row("made (UTC)", _dates(created[0], (completed or created)[-1])))
    versions = sorted({r.version for r in records if r.version})
    rows.append(_row("naive-nb", ", ".join(versions) or __version__))
    identity = run_id(outcome)
    if identity:
        store = _store_of(records)
        where = shown_path(store / RUNS_DIR / f"{identity}.json", base) if store else ""
        rows.append(_row("run record", f"{identity}" + (f" ({where})" if where else "")))
    if outcome.interrupted is not None:
        rows.append(_row("stopped", "the run was interrupted; cells it never reached: not run"))
    return f'<table style="{_TABLE}">' + "".join(rows) + "</table>"


def _shared_input(cells: Sequence[RunCell]) -> dict[str, Any]:
    """The input values every cell sends alike (what no axis varies)."""
    if not cells:
        return {}
    first = cells[0].job.input
    return {
        key: value
        for key, value in first.items()
        if all(_json(c.job.input.get(key, _MISSING)) == _json(value) for c in cells[1:])
    }


_MISSING = object()


def _json(value: Any) -> str:
    if value is _MISSING:
        return "\x00missing"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=jsonable)


def _store_of(records: Sequence[JobRecord]) -> Path | None:
    for record in records:
        for image in record.files:
            return image.path.parent.parent
    return None


def _cells_table(result: NaiveResult, cells: Sequence[RunCell], base: Path) -> str:
    """One entry per cell: a line of its values (place on the axes, model, seed, status, job
    id, credits, dates), and under it the full input sent, its files, backend and version."""
    esc = html.escape
    plan = result.outcome.plan
    axes = list(plan.axes) if plan is not None else []
    headers = ["#", *(a.label for a in axes), "model", "seed", "status", "job id", "credits"]
    headers.append("made (UTC)")
    span = len(headers)
    rows = ["<tr>" + "".join(f'<th style="{_TH}">{esc(h)}</th>' for h in headers) + "</tr>"]
    for cell in cells:
        outcome = cell.result
        record = outcome if isinstance(outcome, JobRecord) else None
        values = [str(cell.index + 1)]
        values += [a.show(cell.coords[a.label]) if a.label in cell.coords else "" for a in axes]
        values += [cell.job.model, "" if cell.seed is None else str(cell.seed), _status(cell)]
        values.append(outcome.job_id or "" if outcome is not None else "")
        if record is not None:
            values.append("" if record.credits_used is None else _number(record.credits_used))
            values.append(_dates(record.created, record.completed))
        else:
            values += ["", ""]
        tds = [f'<td style="{_TD}">{esc(v)}</td>' for v in values]
        status_at = 1 + len(axes) + 2
        colour = _RED if record is None else _TEXT
        tds[status_at] = f'<td style="{_TD};color:{colour}">{esc(values[status_at])}</td>'
        job_at = status_at + 1
        tds[job_at] = f'<td style="{_TD}"><code style="{_CODE}">{esc(values[job_at])}</code></td>'
        rows.append(f'<tr style="border-top:2px solid {_LINE}">' + "".join(tds) + "</tr>")
        details = [f'input sent: <code style="{_CODE}">{esc(_json(cell.job.input))}</code>']
        if record is not None:
            details.append(_files(record, base))
            details.append(esc(f"backend {record.backend or '-'} | naive-nb {record.version}"))
        rows.append(
            f'<tr><td style="{_TD}"></td><td colspan="{span - 1}" style="{_TD};'
            f'color:{_GREY}">' + "<br>".join(details) + "</td></tr>"
        )
    return (
        f'<div style="overflow-x:auto"><table style="{_TABLE}">' + "".join(rows) + "</table></div>"
    )


def _dates(created: str | None, completed: str | None) -> str:
    """``2026-01-02 10:00:01 to 10:00:05``: when a job was made, to the second."""
    start = (created or "")[:19].replace("T", " ")
    end = (completed or "")[:19].replace("T", " ")
    if start and end and start[:10] == end[:10]:
        end = end[11:]
    return f"{start} to {end}" if start and end else start or end


def _status(cell: RunCell) -> str:
    if cell.same_as is not None:
        return f"same request as cell {cell.same_as + 1}"
    if cell.status == "done":
        return "made"
    if cell.status == "cached":
        return "from the store"
    text = failure_heading(cell.status)
    if isinstance(cell.result, FailedJob) and cell.result.reason:
        text += f": {cell.result.reason}"
    return text


def _files(record: JobRecord, base: Path) -> str:
    esc = html.escape
    lines = [
        f"file {esc(shown_path(image.path, base))} ({image.width}x{image.height}), "
        f'<code style="{_CODE}">sha256 {esc(image.sha256)}</code>'
        for image in record.files
    ]
    return "<br>".join(lines)
