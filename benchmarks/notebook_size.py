"""What a 4x4 grid of 1024x1024 images costs a notebook, and what ``%load_ext naive_nb`` costs.

Part 1 - bytes added to the ``.ipynb`` by one result of 16 images of 1024x1024, side by side:

- ours: the one ``%naive`` output (JPEG composite + HTML thumbnails + text table + provenance);
- inline PNG: what ``IPython.display.Image`` users do, one ``display(Image(png))`` per image;
- inline original: the same with the files as the API sent them (no re-encoding).

Two image sources: the embedded server's renderer (a real ``%naive ... --seeds 1-16`` run in an
IPython shell) and synthetic photo-like noise (the compression worst case for the budget).
Bytes are measured the way Jupyter stores them: the notebook is written with nbformat, with and
without the outputs. Budget (DESIGN.md): at most 300 KB for the 16-image result.

Part 2 - ``%load_ext naive_nb`` on top of IPython: the ``-X importtime`` cumulative import time of
what it imports, and the wall time of the magic, in fresh processes (median of 5). Target: 150 ms.

Run: ``python benchmarks/notebook_size.py`` (about 20 s; no network).
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BUDGET = 300_000
LOAD_TARGET_MS = 150.0


def notebook_bytes(outputs: list[dict[str, Any]]) -> int:
    """Bytes these outputs add to a saved notebook (one code cell, nbformat's own writer)."""
    import nbformat

    def size(with_outputs: bool) -> int:
        notebook = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("%naive ...")
        if with_outputs:
            cell.outputs = [nbformat.from_dict(o) for o in outputs]
        notebook.cells = [cell]
        return len(nbformat.writes(notebook).encode())

    return size(True) - size(False)


def display_output(data: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def inline_outputs(files: list[bytes], as_png: bool) -> list[dict[str, Any]]:
    """``display(IPython.display.Image(...))`` for each file, formatted as IPython formats it."""
    from IPython.core.formatters import DisplayFormatter
    from IPython.display import Image as IPyImage
    from PIL import Image

    formatter = DisplayFormatter()
    outputs = []
    for data in files:
        if as_png and not data.startswith(b"\x89PNG"):
            buffer = io.BytesIO()
            Image.open(io.BytesIO(data)).save(buffer, format="PNG")
            data = buffer.getvalue()
        bundle, metadata = formatter.format(IPyImage(data=data))
        outputs.append(display_output(dict(bundle), dict(metadata)))
    return outputs


def ours_from_renderer(workdir: Path) -> tuple[list[dict[str, Any]], list[bytes]]:
    """A real 16-seed %naive run of 1024x1024 PNGs on the embedded server, in an IPython shell."""
    from IPython.core.interactiveshell import InteractiveShell

    from naive_nb.local import serve_local

    os.chdir(workdir)
    with serve_local(time_scale=0.01, rate_limit=None, workers=16) as server:
        os.environ["NAIVE_API_KEY"], os.environ["NAIVE_BASE_URL"] = server.api_key, server.url
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "naive_nb")
        shell.run_line_magic("config", "NaiveMagics.progress = 'none'")
        from IPython.utils.capture import capture_output

        with capture_output():
            result = shell.run_line_magic("naive", "a lighthouse at dusk --seeds 1-16 --format png")
        data, metadata = result._repr_mimebundle_()
        files = [image.read_bytes() for image in result.images]
    return [display_output(data, metadata)], files


def ours_from_files(files: list[bytes]) -> list[dict[str, Any]]:
    from naive_nb.display.grid import GridLayout, Tile, grid_bundle

    tiles = [
        Tile(caption=f"seed {n}", data=data, seed=n, width=1024, height=1024, path=f"r/{n}.jpg")
        for n, data in enumerate(files)
    ]
    return [display_output(grid_bundle(GridLayout.wrapped("photo-like noise", tiles)), {})]


def noise_files(count: int = 16) -> list[bytes]:
    from PIL import Image

    files = []
    for n in range(count):
        channels = [Image.effect_noise((256, 256), 30 + 7 * n + 11 * k) for k in range(3)]
        tinted = Image.merge("RGB", channels)
        buffer = io.BytesIO()
        tinted.resize((1024, 1024), Image.Resampling.BICUBIC).save(
            buffer, format="JPEG", quality=92
        )
        files.append(buffer.getvalue())
    return files


def size_rows() -> list[tuple[str, int, int, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        here = os.getcwd()
        try:
            ours, files = ours_from_renderer(Path(tmp))
        finally:
            os.chdir(here)
        rows = [
            (
                "embedded renderer (PNG files)",
                notebook_bytes(ours),
                notebook_bytes(inline_outputs(files, as_png=True)),
                notebook_bytes(inline_outputs(files, as_png=False)),
            )
        ]
    noise = noise_files()
    rows.append(
        (
            "photo-like noise (JPEG files)",
            notebook_bytes(ours_from_files(noise)),
            notebook_bytes(inline_outputs(noise, as_png=True)),
            notebook_bytes(inline_outputs(noise, as_png=False)),
        )
    )
    return rows


LOAD_SNIPPET = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
print("---loaded IPython---", file=sys.stderr, flush=True)
start = time.perf_counter()
shell.run_line_magic("load_ext", "naive_nb")
print(f"WALL {(time.perf_counter() - start) * 1000:.3f}", file=sys.stderr)
"""


def load_cost(runs: int = 5) -> tuple[float, float, list[str]]:
    """(median cumulative import ms, median wall ms, modules imported) of %load_ext naive_nb."""
    imports, walls = [], []
    modules: list[str] = []
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", LOAD_SNIPPET],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        after = err.split("---loaded IPython---", 1)[1]
        total_us = 0
        modules = []
        for line in after.splitlines():
            if line.startswith("WALL "):
                walls.append(float(line.split()[1]))
            elif line.startswith("import time:") and "|" in line:
                _, cumulative, name = (part.strip() for part in line[12:].split("|"))
                modules.append(name.strip())
                if not name.startswith(" "):  # top level: its cumulative covers its children
                    total_us += int(cumulative)
        imports.append(total_us / 1000)
    return statistics.median(imports), statistics.median(walls), modules


def main() -> int:
    print("Part 1: bytes a 4x4 grid of 1024x1024 images adds to the .ipynb")
    header = (
        f"{'images':<32}{'ours (%naive)':>16}{'inline PNG':>14}{'inline orig.':>14}{'PNG/ours':>10}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name, ours, png, original in size_rows():
        print(f"{name:<32}{ours:>16,}{png:>14,}{original:>14,}{png / ours:>9.0f}x")
        ok = ok and ours <= BUDGET
    print(f"budget for ours: {BUDGET:,} bytes -> {'within' if ok else 'OVER'}")
    print()
    print("Part 2: %load_ext naive_nb on top of an already imported IPython (median of 5 runs)")
    imports, wall, modules = load_cost()
    names = ", ".join(m.strip() for m in modules)
    print(f"imports (-X importtime, cumulative): {imports:.1f} ms ({names})")
    print(f"wall time of the magic:             {wall:.1f} ms (target < {LOAD_TARGET_MS:.0f} ms)")
    heavy = [
        m for m in modules if m.strip().split(".")[0] in ("httpx", "PIL", "starlette", "uvicorn")
    ]
    print(f"heavy imports at load: {heavy or 'none'}")
    return 0 if ok and wall < LOAD_TARGET_MS and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
