"""``python -m naive_nb.demo``: run the quickstart notebook offline, end to end; say where it went.

The quickstart's cells live here (one source of truth, available from an installed wheel too);
``notebooks/quickstart.ipynb`` is this notebook as executed and committed. The demo writes the
notebook, executes it with nbclient on a real kernel (no ``NAIVE_API_KEY``, so the kernel uses the
embedded server: no key, no network), saves it with its outputs, converts it to HTML, and prints
the paths and sizes.

Options: ``--out DIR`` (default ``naive-demo``), ``--write-only PATH`` (write the unexecuted
notebook and stop), ``--timeout SECONDS`` per cell.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

KERNEL_ENV_DROPPED = ("NAIVE_API_KEY", "NAIVE_BASE_URL")

# (kind, source[, tags]); markdown reads as a newcomer's tour
CELLS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "markdown",
        "# naive-nb quickstart\n\n"
        "Generate images from a notebook cell with the Naive images API. Without a "
        "`NAIVE_API_KEY` this notebook runs on naive-nb's **local preview engine**, an embedded "
        "server that speaks the same API offline and draws procedural stand-in images (labelled "
        "as previews). With a key, the same cells call the hosted API.\n\n"
        "Results are saved in three forms that survive saving: a labelled JPEG grid, an HTML "
        "table of small thumbnails, and a text table. Full-size files go to `naive-results/` "
        "beside the notebook, with their provenance.",
        (),
    ),
    ("code", "%load_ext naive_nb", ()),
    (
        "markdown",
        "## One image\n\nThe prompt is the text; options are flags. `--seed` makes it "
        "reproducible (without one, a seed is chosen and shown).",
        (),
    ),
    ("code", "%naive a red fox in fresh snow, watercolor --seed 42 --size square", ()),
    (
        "markdown",
        "## Seeds side by side\n\n`--seeds` runs one job per seed and lays them out labelled by "
        'seed. Ranges work as in AUTOMATIC1111\'s X/Y/Z plot: `1-4`, `1,5,9`, `"1-10 (+3)"`, '
        '`"1-10 [4]"`.',
        (),
    ),
    (
        "code",
        "%naive a minimalist logo for a tech startup --seeds 1-4 --size square",
        (),
    ),
    (
        "markdown",
        "## An X/Y plot\n\nWith `%%naive` the cell body is the prompt and the first line holds "
        "the options (`$` and `{}` reach the API as written). A list for `--steps` or "
        "`--guidance` adds a second axis: seeds across, steps down.",
        (),
    ),
    (
        "code",
        "%%naive --seeds 7,8 --steps 2,8 --size square\n"
        "A lighthouse on a cliff at dusk, warm light, long exposure, {cinematic}",
        (),
    ),
    (
        "markdown",
        "## The result object\n\nThe value of a `%naive` cell is a result: images, files on "
        "disk (with sha256), seeds, job ids and credits spent. Keep it with `r = %naive ...` (or "
        "`-o r`, or `_`). This request was made above, so it comes from the cache.",
        (),
    ),
    (
        "code",
        "logos = %naive a minimalist logo for a tech startup --seeds 1-4 --size square\n"
        "print(logos)\n"
        "print(logos.seeds, logos.credits)\n"
        "print(logos.images[0].path.name, logos.images[0].sha256[:16], logos.images[0].pil.size)",
        (),
    ),
    ("markdown", "## What it costs, and what is available", ()),
    ("code", "%naive price --seeds 1-4 --num 2", ()),
    ("code", "%naive models", ()),
    ("markdown", "## Jobs and status\n\nThe key is shown as set or not, never its value.", ()),
    ("code", "%naive jobs --limit 5", ()),
    ("code", "%naive status", ()),
    (
        "markdown",
        "## Re-run from the cache\n\nA seeded request already made is served from disk: zero "
        "requests, zero credits. Re-running this notebook costs nothing.",
        (),
    ),
    ("code", "%naive a red fox in fresh snow, watercolor --seed 42 --size square", ()),
    (
        "markdown",
        "## Mistakes are caught before anything is sent\n\nThe message names the field and "
        "what is allowed, and the cell fails (so a scheduled run stops). This cell is tagged "
        "`raises-exception` so the tour goes on.",
        (),
    ),
    ("code", "%naive a red fox --steps 40", ("raises-exception",)),
    (
        "markdown",
        "## Using the hosted API\n\nSet the key without writing it into the notebook: export "
        "`NAIVE_API_KEY` before starting Jupyter, or run `%naive login` (a hidden prompt). Never "
        "`%env NAIVE_API_KEY=...`, which saves the key in the notebook. `%naive help` lists "
        "everything; `%config NaiveMagics` lists the settings.",
        (),
    ),
]


def _module(name: str) -> Any:
    """nbformat / nbclient / nbconvert, typed loosely (their stubs are partial); imported late so
    that importing this module stays cheap."""
    return importlib.import_module(name)


def build_notebook() -> Any:
    nbformat = _module("nbformat")

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for index, (kind, source, tags) in enumerate(CELLS):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"cell-{index:02d}"  # stable ids keep diffs of the committed notebook small
        if tags:
            cell.metadata["tags"] = list(tags)
        notebook.cells.append(cell)
    return notebook


def execute(
    notebook: Any, workdir: Path, *, timeout: int = 300, env: dict[str, str] | None = None
) -> Any:
    """Run every cell on a fresh python3 kernel in ``workdir``; raises on the first failing cell."""
    NotebookClient = _module("nbclient").NotebookClient
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    previous = {name: os.environ.get(name) for name in (env or {})}
    try:
        os.environ.update(env or {})
        client.execute(env=dict(os.environ))
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook


def to_html(notebook: Any) -> str:
    exporter = _module("nbconvert").HTMLExporter()
    body, _ = exporter.from_notebook_node(notebook)
    return str(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m naive_nb.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", default="naive-demo", help="directory for the notebook and results"
    )
    parser.add_argument(
        "--write-only", metavar="PATH", help="write the unexecuted notebook and stop"
    )
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)

    nbformat = _module("nbformat")
    notebook = build_notebook()
    if args.write_only:
        nbformat.write(notebook, args.write_only)
        print(f"wrote {args.write_only}")
        return 0
    out = Path(args.out).resolve()
    for name in KERNEL_ENV_DROPPED:  # the demo is the offline path: the embedded server
        os.environ.pop(name, None)
    print(f"naive-nb demo: executing the quickstart notebook in {out} (embedded server, offline)")
    start = time.monotonic()
    try:
        execute(notebook, out, timeout=args.timeout)
    except Exception as error:
        failed = out / "quickstart.failed.ipynb"
        nbformat.write(notebook, failed)
        print(f"FAILED: {type(error).__name__}: {str(error)[-2000:]}\npartial notebook: {failed}")
        return 1
    seconds = time.monotonic() - start
    nbformat.validate(notebook)
    path = out / "quickstart.ipynb"
    nbformat.write(notebook, path)
    html = out / "quickstart.html"
    html.write_text(to_html(notebook), encoding="utf-8")
    store = out / "naive-results"
    files = [p for p in store.rglob("*") if p.is_file()] if store.is_dir() else []
    images = [p for p in files if p.suffix in (".jpg", ".png")]
    print(f"executed {len(notebook.cells)} cells in {seconds:.1f}s")
    print(f"notebook: {path} ({path.stat().st_size / 1024:.0f} KB, with outputs)")
    print(f"html:     {html} ({html.stat().st_size / 1024:.0f} KB)")
    print(f"results:  {store} ({len(images)} full-size images, manifests, cache, journal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
