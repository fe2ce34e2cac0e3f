"""What one result costs a notebook, how large it is drawn, and what ``%load_ext naive_nb`` costs.

Part 1 - bytes one result adds to the ``.ipynb``, for 1, 4 and 16 images of 1024x1024 (and a
4x4 X/Y plot), side by side:

- ours: the one ``%naive`` output (the HTML view with its embedded JPEGs, the text table and the
  provenance metadata);
- inline PNG: what ``IPython.display.Image`` users do, one ``display(Image(png))`` per image;
- inline original: the same with the files as the API sent them (no re-encoding);

with how our images are drawn: CSS px of a tile (as the HTML sizes it for JupyterLab's output
area in a 1280 px window) and the pixels embedded (more than the CSS px: sharp on HiDPI screens).

Two image sources: the embedded server's renderer (real ``%naive`` runs in an IPython shell) and
synthetic photo-like noise (the compression worst case for the budget). Bytes are measured the
way Jupyter stores them: the notebook is written with nbformat, with and without the outputs.
Budgets (DESIGN.md): at most 120 KB for one image, 300 KB for 16.

Part 2 - ``%load_ext naive_nb`` on top of IPython: the ``-X importtime`` cumulative import time of
what it imports, and the wall time of the magic, in fresh processes (median of 5). Target: 150 ms.

Run: ``python benchmarks/notebook_size.py`` (about a minute; no network).
"""

from __future__ import annotations

import base64
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOAD_TARGET_MS = 150.0
# what %naive runs for each row of part 1 (the renderer's files are 1024x1024 PNGs)
PROMPT = "a lighthouse at dusk --format png"
RUNS = {
    "1 image": f"{PROMPT} --seed 1",
    "4 images (--seeds 1-4)": f"{PROMPT} --seeds 1-4",
    "16 images (--seeds 1-16)": f"{PROMPT} --seeds 1-16",
    "4x4 X/Y (seeds x steps)": f"{PROMPT} --seeds 1-4 --steps 1,2,3,4 --num 1",
}


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


@dataclass
class Row:
    name: str
    images: int
    ours: int
    png: int
    original: int
    css: str  # CSS px of a tile, as drawn
    pixels: str  # pixels of an embedded image


def drawn_sizes(html: str) -> tuple[str, str]:
    """CSS width x height of the first tile and the pixels of its embedded JPEG."""
    from PIL import Image

    match = re.search(r'<img src="data:image/jpeg;base64,([^"]+)" width="(\d+)"', html)
    if match is None:
        return "-", "-"
    picture = Image.open(io.BytesIO(base64.b64decode(match.group(1))))
    css_width = int(match.group(2))
    css_height = round(css_width * picture.height / picture.width)
    density = picture.width / css_width
    return f"{css_width}x{css_height}", f"{picture.width}x{picture.height} ({density:.2f}x)"


def row(name: str, ours: list[dict[str, Any]], files: list[bytes]) -> Row:
    css, pixels = drawn_sizes(ours[0]["data"]["text/html"])
    return Row(
        name,
        len(files),
        notebook_bytes(ours),
        notebook_bytes(inline_outputs(files, as_png=True)),
        notebook_bytes(inline_outputs(files, as_png=False)),
        css,
        pixels,
    )


def renderer_rows(workdir: Path) -> list[Row]:
    """Real %naive runs of 1024x1024 PNGs on the embedded server, in an IPython shell."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from naive_nb.local import serve_local

    os.chdir(workdir)
    rows = []
    with serve_local(time_scale=0.01, rate_limit=None, workers=16) as server:
        os.environ["NAIVE_API_KEY"], os.environ["NAIVE_BASE_URL"] = server.api_key, server.url
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "naive_nb")
        shell.run_line_magic("config", "NaiveMagics.progress = 'none'")
        for name, line in RUNS.items():
            with capture_output():
                result = shell.run_line_magic("naive", line)
            data, metadata = result._repr_mimebundle_()
            files = [image.read_bytes() for image in result.images]
            rows.append(row(f"renderer: {name}", [display_output(data, metadata)], files))
    return rows


def noise_files(count: int) -> list[bytes]:
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


def noise_rows() -> list[Row]:
    """Photo-like noise as JPEG files, through the same renderer (no metadata: no real jobs)."""
    from naive_nb.display.grid import GridLayout, Tile, grid_bundle

    rows = []
    for count in (1, 4, 16):
        files = noise_files(count)
        tiles = [
            Tile(
                caption=f"seed {n}",
                data=data,
                seed=n,
                width=1024,
                height=1024,
                path=f"naive-results/job{n}/1-seed{n}.jpg",
            )
            for n, data in enumerate(files)
        ]
        bundle = grid_bundle(GridLayout.wrapped("photo-like noise", tiles))
        rows.append(row(f"noise: {count} image(s)", [display_output(bundle, {})], files))
    return rows


def size_rows() -> list[Row]:
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            rows = renderer_rows(Path(tmp))
        finally:
            os.chdir(here)
    return rows + noise_rows()


def budget(images: int) -> int:
    """The renderer's own budget for this many images: 120 KB for one, 300 KB for 16, linear."""
    from naive_nb.display.grid import GridSizes

    return GridSizes().budget(images)


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
    print("Part 1: bytes one result of 1024x1024 images adds to the .ipynb, and how it is drawn")
    header = (
        f"{'result':<36}{'ours':>9}{'budget':>9}{'inline PNG':>12}{'inline orig.':>14}"
        f"{'PNG/ours':>10}  {'tile (CSS px)':<15}{'embedded px':<20}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for current in size_rows():
        ratio = current.png / current.ours
        print(
            f"{current.name:<36}{current.ours:>9,}{budget(current.images):>9,}{current.png:>12,}"
            f"{current.original:>14,}{ratio:>9.0f}x  {current.css:<15}{current.pixels:<20}"
        )
        ok = ok and current.ours <= budget(current.images)
    print(f"every result within its budget: {'yes' if ok else 'NO'}")
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
