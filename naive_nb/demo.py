"""``python -m naive_nb.demo``: execute the notebooks of ``notebooks/`` on the embedded server.

The notebooks are their own source of truth: ``notebooks/*.ipynb``, edited in Jupyter and
committed with their outputs (four notebooks of prose and code read and change best where
they run; cells kept as Python strings here could not be opened, run and fixed in Jupyter).
This module only runs them:

- ``python -m naive_nb.demo [NAME ...] [--out naive-demo]``: the main job. Every notebook (or
  those named) is executed top to bottom by nbclient on a fresh kernel in ``--out``, with no
  ``NAIVE_API_KEY``: the kernels use naive-nb's embedded server (no key, no network) and share
  one store there. Each executed notebook is saved with its outputs and as HTML, and the paths
  of the notebooks, the files they wrote (the study's report and grid) and the store are
  printed.
- ``python -m naive_nb.demo --refresh [NAME ...]``: re-make the committed notebooks. Each is
  executed in a fresh folder (an empty store: its first runs are made, not served from a
  cache), normalised (:func:`normalise`) and written back; one that would carry an absolute
  path or a loopback port is refused (:func:`leaks`).

The notebooks are found beside the package in a checkout (``notebooks/``) or with
``--notebooks DIR``. ``NAIVE_LOCAL_TIME_SCALE`` (e.g. 0.1) makes the embedded server's jobs
faster than the hosted models' typical times, which it otherwise mimics.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
#: the demo's order: the tour first, then the study (whose report the demo points to)
ORDER = ("quickstart", "study", "reproducibility", "panel")
KERNEL_ENV_DROPPED = ("NAIVE_API_KEY", "NAIVE_BASE_URL")
#: what must never be in a committed notebook: a path of the machine that ran it, a port of an
#: embedded server that is gone (issue 9)
LEAKS = re.compile(
    r"(?:/tmp/|/root/|/home/|/Users/|/var/folders/|/private/|[A-Za-z]:\\\\Users|"
    r"(?:127\.0\.0\.1|localhost|\[::1\]):\d+)"
)
STORE = "naive-results"


def _module(name: str) -> Any:
    """nbformat / nbclient / nbconvert, typed loosely (their stubs are partial); imported late so
    that importing this module stays cheap."""
    return importlib.import_module(name)


# -- finding and preparing notebooks -------------------------------------------------------------
def notebook_paths(names: Sequence[str] = (), folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks named (a stem such as ``study`` or a file name), else every notebook in
    ``folder``, in :data:`ORDER` (others after, by name). Raises ``FileNotFoundError``."""
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no notebooks folder at {folder}: run this from a naive-nb checkout, or pass "
            "--notebooks DIR"
        )
    found = {path.stem: path for path in folder.glob("*.ipynb")}
    if names:
        missing = [name for name in names if Path(name).stem not in found]
        if missing:
            raise FileNotFoundError(
                f"no notebook {', '.join(missing)} in {folder}; there are: "
                + ", ".join(sorted(found))
            )
        return [found[Path(name).stem] for name in names]
    rank = {name: n for n, name in enumerate(ORDER)}
    return [found[stem] for stem in sorted(found, key=lambda s: (rank.get(s, len(ORDER)), s))]


def read_clean(path: Path) -> Any:
    """The notebook at ``path`` with its outputs and execution counts cleared."""
    notebook = _module("nbformat").read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


@contextmanager
def _environment(env: dict[str, str] | None, dropped: Sequence[str] = ()) -> Iterator[None]:
    """``os.environ`` with ``env`` set and ``dropped`` unset (a kernel inherits it), restored
    afterwards."""
    names = set(env or {}) | set(dropped)
    previous = {name: os.environ.get(name) for name in names}
    try:
        for name in dropped:
            os.environ.pop(name, None)
        os.environ.update(env or {})
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(
    notebook: Any,
    workdir: Path,
    *,
    timeout: int = 300,
    env: dict[str, str] | None = None,
    unset: Sequence[str] = (),
) -> Any:
    """Run every cell on a fresh python3 kernel in ``workdir``, with ``env`` set and ``unset``
    removed from its environment; raises on the first failing cell (a cell tagged
    ``raises-exception`` may fail). No widget state is stored, as JupyterLab stores none by
    default: the saved file holds what a reader of a saved notebook gets."""
    NotebookClient = _module("nbclient").NotebookClient
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    with _environment(env, unset):
        client.execute(env=dict(os.environ))
    return notebook


def normalise(notebook: Any) -> Any:
    """``notebook`` without what changes from run to run and is not output: each cell's
    execution timestamps (nbclient's ``metadata.execution``), papermill's metadata (paths and
    times of the run), and widget state (JupyterLab saves none by default; a reader of the
    saved file gets the outputs)."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    return notebook


def leaks(notebook: Any) -> list[str]:
    """Each absolute path of this machine or loopback address with a port in ``notebook``."""
    text = _module("nbformat").writes(notebook)
    return sorted(set(LEAKS.findall(text)))


def to_html(notebook: Any) -> str:
    exporter = _module("nbconvert").HTMLExporter()
    body, _ = exporter.from_notebook_node(notebook)
    return str(body)


# -- the two commands ------------------------------------------------------------------------------
def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024:,.0f} KB"


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


def run_demo(paths: Sequence[Path], out: Path, *, timeout: int) -> int:
    """Execute ``paths`` in ``out`` (one store for all), save each with its HTML; print where
    everything went. 0, or 1 when a notebook failed (its partial copy is saved)."""
    nbformat = _module("nbformat")
    out.mkdir(parents=True, exist_ok=True)
    before = _files(out)
    print(
        f"naive-nb demo: executing {len(paths)} notebooks in {_shown(out)}/ on the local "
        "preview engine (naive-nb's embedded server: no key, no network)"
    )
    written: list[Path] = []
    start = time.monotonic()
    for path in paths:
        notebook = read_clean(path)
        began = time.monotonic()
        try:
            execute(notebook, out, timeout=timeout, unset=KERNEL_ENV_DROPPED)
        except Exception as error:
            failed = out / f"{path.stem}.failed.ipynb"
            nbformat.write(normalise(notebook), failed)
            print(f"FAILED: {path.name}: {type(error).__name__}: {str(error)[-2000:]}")
            print(f"the notebook as far as it ran: {_shown(failed)}")
            return 1
        seconds = time.monotonic() - began
        executed = out / path.name
        nbformat.write(normalise(notebook), executed)
        html = executed.with_suffix(".html")
        html.write_text(to_html(notebook), encoding="utf-8")
        written += [executed, html]
        print(
            f"  {path.stem:<16} {len(notebook.cells):>3} cells {seconds:6.1f}s  "
            f"{_shown(executed)} ({_size(executed)}), {html.name} ({_size(html)})"
        )
    store = out / STORE
    made = sorted(
        p for p in _files(out) - before - set(written) if store not in p.parents and p.parent == out
    )
    files = _files(store)
    images = [p for p in files if p.suffix in (".png", ".jpg", ".jpeg", ".webp")]
    images = [p for p in images if "_cache" not in p.parts and ".views" not in p.parts]
    runs = [p for p in files if p.parent.name == "_runs"]
    print(f"executed in {time.monotonic() - start:.0f}s")
    print(f"notebooks: {_shown(out)}/ (each .ipynb with its outputs, and its .html)")
    for path in made:
        print(f"written:   {_shown(path)} ({_size(path)})")
    print(
        f"files:     {_shown(store)}/ ({len(images)} full-size images with their manifests, "
        f"{len(runs)} run records, the request cache and the job journal)"
    )
    return 0


def refresh(paths: Sequence[Path], *, timeout: int) -> int:
    """Re-make each committed notebook in ``paths`` (see the module docstring). 0, or 1 when a
    notebook failed or would leak (it is then left as it was)."""
    nbformat = _module("nbformat")
    for path in paths:
        notebook = read_clean(path)
        with tempfile.TemporaryDirectory(prefix=f"naive-refresh-{path.stem}-") as work:
            began = time.monotonic()
            try:
                execute(notebook, Path(work), timeout=timeout, unset=KERNEL_ENV_DROPPED)
            except Exception as error:
                print(f"FAILED: {path.name}: {type(error).__name__}: {str(error)[-2000:]}")
                return 1
        normalise(notebook)
        found = leaks(notebook)
        if found:
            print(f"REFUSED: {path.name} would carry {', '.join(found)}; left as it was")
            return 1
        nbformat.validate(notebook)
        nbformat.write(notebook, path)
        seconds = time.monotonic() - began
        print(f"refreshed {_shown(path)} ({_size(path)}) in {seconds:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m naive_nb.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all), e.g. study")
    parser.add_argument("--out", default="naive-demo", help="folder for the executed notebooks")
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="re-make the committed notebooks in place (a fresh store each) instead",
    )
    parser.add_argument("--notebooks", default=str(NOTEBOOKS), help="where the notebooks are")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    try:
        paths = notebook_paths(args.names, Path(args.notebooks))
    except FileNotFoundError as error:
        print(f"python -m naive_nb.demo: {error}", file=sys.stderr)
        return 2
    if args.refresh:
        return refresh(paths, timeout=args.timeout)
    return run_demo(paths, Path(args.out), timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
