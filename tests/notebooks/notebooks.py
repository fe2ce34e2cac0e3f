"""What the notebook tests share: executing a notebook of ``notebooks/`` the two ways the suite
does, and what "the committed copy is current" means.

Two executions of each notebook, both by nbclient on a real kernel:

- **keyless**: as a reader runs it (no ``NAIVE_API_KEY``: the kernel starts its own embedded
  server), as ``python -m naive_nb.demo --refresh`` made the committed copy. Its outputs are
  compared with the committed ones (:func:`outline`).
- **canary**: with the canary key and ``NAIVE_BASE_URL`` on an embedded server in this process,
  so that a leak of the key anywhere would show, and the server's request log says what was
  sent.

**Current** means: the committed notebook and a fresh keyless run of its cells have the same
cells (sources, tags) and, cell by cell, the same outputs: the same output types in the same
order, the same mime types and metadata keys, and the same text, HTML (its inline images left
out) and ``naive`` metadata once the values that differ between any two runs are masked: job ids
and other hex ids, sha256 digests, dates and times, durations in seconds, percentages of a job
in progress, and file sizes in KB. So a change of naive-nb that changes what a notebook shows (a
new line, a grid laid out differently, a message reworded, a field added) makes the committed
copy stale until it is refreshed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from naive_nb import demo
from naive_nb.display.grid_model import GridSizes
from naive_nb.local import LocalServer, serve_local
from tests.conftest import CANARY_KEY

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
NAMES = [path.stem for path in NOTEBOOKS]
NAIVE_ENV = ("NAIVE_API_KEY", "NAIVE_BASE_URL", "NAIVE_LOCAL_TIME_SCALE")

#: the embedded server's time scale per notebook (jobs last their model's typical time x this).
#: reproducibility.ipynb's deadline cell needs a FLUX Dev job to outlast its 1 s deadline: at
#: 0.3 it lasts 2.4-3.6 s.
TIME_SCALES = {"reproducibility": 0.3}
DEFAULT_TIME_SCALE = 0.01

#: issue 9's budget for one result (120 KB for one image, rising to 300 KB for 16)
SIZES = GridSizes()
#: what one committed notebook may weigh in all (GitHub renders it; a clone stays small)
NOTEBOOK_CAP = 800_000

_MASKS = [
    (re.compile(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+"), "data:<image>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    # short job ids, sha256 and cache-key prefixes, run record ids (no English word is 8 or
    # more of the letters a-f)
    (re.compile(r"\b[0-9a-f]{8,63}\b"), "<hex>"),
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?"),
        "<date>",
    ),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}\b"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)?\s?s\b"), "<seconds>"),
    # with the padding of its table column, whose width follows the number's
    (re.compile(r"\b\d+% *"), "<percent> "),
    (re.compile(r"\b[\d,]+ KB\b"), "<KB>"),
]


def mask(text: str) -> str:
    """``text`` with what differs between two runs of the same cells masked (see above)."""
    for pattern, stand_in in _MASKS:
        text = pattern.sub(stand_in, text)
    return text


def _output_outline(output: Any) -> dict[str, Any]:
    kind = output["output_type"]
    if kind == "stream":
        return {"type": kind, "name": output["name"], "text": mask(output["text"])}
    if kind == "error":
        return {"type": kind, "ename": output["ename"], "evalue": mask(output["evalue"])}
    data = output.get("data", {})
    metadata = output.get("metadata", {})
    shown: dict[str, Any] = {"type": kind, "mime": sorted(data), "metadata": sorted(metadata)}
    for mime in ("text/plain", "text/html"):
        if mime in data:
            shown[mime] = mask(data[mime])
    for key in ("naive", "naive_panel"):
        if key in metadata:
            shown[key] = mask(json.dumps(metadata[key], sort_keys=True))
    return shown


def outline(notebook: Any) -> list[dict[str, Any]]:
    """What must be the same in the committed copy and a fresh run (see the module docstring)."""
    cells = []
    for cell in notebook.cells:
        entry: dict[str, Any] = {
            "id": cell.get("id"),
            "type": cell.cell_type,
            "source": cell.source,
            "tags": cell.metadata.get("tags", []),
        }
        if cell.cell_type == "code":
            entry["execution_count"] = cell.execution_count
            entry["outputs"] = [_output_outline(output) for output in cell.outputs]
        cells.append(entry)
    return cells


# -- executing -------------------------------------------------------------------------------------
@dataclass
class Executed:
    """A notebook executed in ``workdir`` and read back as saved (``path``)."""

    notebook: Any
    workdir: Path
    path: Path
    requests: list[tuple[str, str]]  # (method, path) the server saw; empty for a keyless run


def time_scale(name: str) -> float:
    return TIME_SCALES.get(name, DEFAULT_TIME_SCALE)


def execute_keyless(name: str, workdir: Path) -> Executed:
    """``notebooks/<name>.ipynb``, outputs cleared, run as a reader runs it: no key."""
    notebook = demo.read_clean(FOLDER / f"{name}.ipynb")
    env = {"NAIVE_LOCAL_TIME_SCALE": str(time_scale(name))}
    demo.execute(notebook, workdir, timeout=300, env=env, unset=("NAIVE_API_KEY", "NAIVE_BASE_URL"))
    return _saved(demo.normalise(notebook), workdir, name, [])


@contextmanager
def canary_server(name: str = "") -> Iterator[LocalServer]:
    """An embedded server in this process that takes only the canary key."""
    scale = time_scale(name)
    with serve_local(api_key=CANARY_KEY, time_scale=scale, rate_limit=None) as server:
        yield server


def execute_with_canary(name: str, workdir: Path) -> Executed:
    """``notebooks/<name>.ipynb``, outputs cleared, run with the canary key on a server here."""
    notebook = demo.read_clean(FOLDER / f"{name}.ipynb")
    with canary_server(name) as server:
        env = {"NAIVE_API_KEY": CANARY_KEY, "NAIVE_BASE_URL": server.url}
        demo.execute(notebook, workdir, timeout=300, env=env)
        requests = [(r.method, r.path) for r in server.request_log]
    return _saved(notebook, workdir, name, requests)


def _saved(notebook: Any, workdir: Path, name: str, requests: list[tuple[str, str]]) -> Executed:
    path = workdir / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return Executed(nbformat.read(path, as_version=4), workdir, path, requests)


# -- reading outputs -------------------------------------------------------------------------------
def cell(notebook: Any, ident: str) -> Any:
    """The cell whose id is ``ident``."""
    found = [c for c in notebook.cells if c.get("id") == ident]
    assert len(found) == 1, f"no single cell {ident!r}"
    return found[0]


def texts(cell: Any) -> str:
    """Everything a cell printed or showed as text, its errors included, in order."""
    parts = []
    for output in cell.outputs:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def results(notebook: Any) -> Iterator[tuple[Any, Any]]:
    """(cell, output) for each output that carries a naive-nb record in its metadata."""
    for each in notebook.cells:
        for output in each.get("outputs", []):
            if "naive" in output.get("metadata", {}):
                yield each, output


def output_bytes(output: Any) -> int:
    """What the output adds to the ``.ipynb`` as nbformat writes it."""
    return len(json.dumps(output, indent=1, ensure_ascii=False).encode())


def images_shown(output: Any) -> int:
    return str(output.get("data", {}).get("text/html", "")).count('src="data:image/')


def budget(output: Any) -> int:
    """The bytes issue 9 allows this output: one result's budget for the images it shows, or,
    for a panel's record of several runs, the sum of each run's."""
    runs = output.get("metadata", {}).get("naive_panel", {}).get("runs")
    if runs:
        return sum(SIZES.budget(sum(len(j["files"]) for j in run["jobs"])) for run in runs)
    return SIZES.budget(max(1, images_shown(output)))
