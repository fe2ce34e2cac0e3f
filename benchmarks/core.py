"""The core's figures: the walk of one ``%naive`` line, hashing on a warm re-run, sweep wall time.

Measured through the public surface only (``%load_ext naive_nb`` in a real IPython shell, on the
embedded server), so the same script measures any internal layout of the package:

1. **The walk**: the ``naive_nb`` modules one ``%naive`` line enters on the kernel's thread, in
   order of first entry, with their layer; and every call made from a lower layer up into a
   higher one (progress callbacks excepted: an observer passed down is called by design).
2. **Warm re-run of a 16-image cell**: how many times each stored file is hashed (SHA-256 of its
   bytes), and the cell's wall time (median of 5).
3. **A 16-job seed sweep** on the embedded server with 4 workers at real-time scale: wall time
   against the ideal (jobs / workers x job time), and what the progress reported.
4. **Largest module and largest class**, in lines.

Run: ``python benchmarks/core.py [--skip-sweep]`` (about a minute; no network).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# layer of a module, from the top (notebook) down; the same names cover the old flat layout
_LAYERS = (
    ("notebook", ("naive_nb.notebook", "naive_nb.magic", "naive_nb._magic", "naive_nb._progress")),
    ("display", ("naive_nb.display",)),
    ("run", ("naive_nb.run",)),
    # the old flat layout's client modules were naive_nb._<name> (and naive_nb.errors)
    ("client", ("naive_nb.client", "naive_nb.errors", "naive_nb._")),
)
_RANK = {name: n for n, (name, _) in enumerate(_LAYERS)}


def layer_of(module: str) -> str | None:
    for name, prefixes in _LAYERS:
        if any(module.startswith(prefix) for prefix in prefixes):
            return name
    return None


def _shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext naive_nb").raise_error()
    shell.run_cell("%config NaiveMagics.progress = 'none'").raise_error()
    return shell


def _run(shell: Any, cell: str) -> Any:
    from IPython.utils.capture import capture_output

    with capture_output(display=True):  # the figures are the output, not the grids
        result = shell.run_cell(cell)
    result.raise_error()
    return result.result


def measure_walk(shell: Any) -> tuple[list[tuple[str, str]], Counter[str]]:
    """One cold ``%naive`` line on the kernel thread: the modules it enters (in order of first
    entry) and the calls it makes from a lower layer into a higher one (by caller -> callee),
    progress callbacks excepted (an observer a front end passes down is called by design)."""
    entered: list[tuple[str, str]] = []
    seen: set[str] = set()
    upward: Counter[str] = Counter()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        layer = layer_of(module) if not module.startswith("naive_nb.local") else None
        if layer is None:
            return
        if module not in seen:
            seen.add(module)
            entered.append((module, layer))
        caller = frame.f_back
        caller_module = caller.f_globals.get("__name__", "") if caller is not None else ""
        caller_layer = layer_of(caller_module)
        if caller_layer is None or frame.f_code.co_name in _OBSERVER_NAMES:
            return
        if _RANK[layer] < _RANK[caller_layer]:
            upward[
                f"{caller_module}.{caller.f_code.co_name} -> {module}.{frame.f_code.co_name}"
            ] += 1

    sys.setprofile(profile)
    try:
        _run(shell, "%naive a walk through the layers --seed 7")
    finally:
        sys.setprofile(None)
    return entered, upward


_OBSERVER_NAMES = {"update", "notice", "on_progress", "_notice", "start", "finish", "observe"}


def measure_hashing(shell: Any, repeats: int = 5) -> tuple[Counter[str], int, float]:
    """Hashes per stored file and wall time of a warm re-run of a 16-image cell."""
    cell = "%naive a hashed sweep --seeds 1-4 --num 4"
    _run(shell, cell)  # cold: generates and stores 4 jobs x 4 images
    real_sha256 = hashlib.sha256
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def counting(data: bytes = b"", **kwargs: Any) -> Any:
        digest = real_sha256(data, **kwargs)
        if len(data) > 4096:  # a file's bytes, not a request key's JSON
            with lock:
                counts[digest.hexdigest()] += 1
        return digest

    hashlib.sha256 = counting  # type: ignore[assignment]
    try:
        result = _run(shell, cell)
        hashed_once = Counter(counts)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            _run(shell, cell)
            times.append(time.perf_counter() - start)
    finally:
        hashlib.sha256 = real_sha256  # type: ignore[assignment]
    files = len(getattr(result, "images", []) or [])
    return hashed_once, files, statistics.median(times)


def measure_sweep(jobs: int = 16, workers: int = 4) -> dict[str, float]:
    """Wall time of a ``--seeds`` cell of ``jobs`` seeds on a real-time server with 4 workers.

    The cell runs in a fresh kernel-like process pointed at the server by the environment, as a
    user would point naive-nb at any backend."""
    import subprocess

    from naive_nb.local import serve_local

    server = serve_local(time_scale=1.0, workers=workers, spread=0.0)
    code = (
        "import time\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "for cell in ('%load_ext naive_nb', \"%config NaiveMagics.progress = 'none'\"):\n"
        "    shell.run_cell(cell).raise_error()\n"
        "start = time.perf_counter()\n"
        f"shell.run_cell('%naive a real-time sweep --seeds 101-{100 + jobs}').raise_error()\n"
        "print(time.perf_counter() - start)\n"
    )
    env = {**os.environ, "NAIVE_API_KEY": server.api_key, "NAIVE_BASE_URL": server.url}
    try:
        with tempfile.TemporaryDirectory() as work:
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=work, capture_output=True, text=True
            )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        wall = float(out.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    estimate = 5.0  # FLUX Schnell's estimate at time_scale 1 (spread 0: every job takes it)
    return {"wall": wall, "ideal": jobs / workers * estimate}


def largest() -> tuple[tuple[int, str], tuple[int, str]]:
    modules: list[tuple[int, str]] = []
    classes: list[tuple[int, str]] = []
    for path in sorted((ROOT / "naive_nb").rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(ROOT).as_posix()
        modules.append((len(text.splitlines()), name))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                classes.append((node.end_lineno - node.lineno + 1, f"{name}:{node.name}"))
    return max(modules), max(classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-sweep", action="store_true", help="skip the ~25 s real-time sweep")
    args = parser.parse_args()
    home = os.getcwd()
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        os.environ.pop("NAIVE_API_KEY", None)
        os.environ.pop("NAIVE_BASE_URL", None)
        os.environ["NAIVE_LOCAL_TIME_SCALE"] = "0.01"
        shell = _shell()
        _run(shell, "%naive warm up the kernel --seed 1")  # imports and the server start

        entered, upward = measure_walk(shell)
        print("1. The walk of `%naive a walk through the layers --seed 7` (kernel thread)")
        for module, layer in entered:
            print(f"   {layer:<9} {module}")
        path = [
            layer for n, (_, layer) in enumerate(entered) if n == 0 or entered[n - 1][1] != layer
        ]
        print(f"   layers in order of first entry: {' > '.join(path)}")
        print(f"   calls from a lower layer up into a higher one: {sum(upward.values())}")
        for edge, count in upward.most_common(8):
            print(f"     {count:>4}  {edge}")
        print()

        counts, files, wall = measure_hashing(shell)
        per_file = sorted(counts.values())
        print("2. Warm re-run of a 16-image cell (`--seeds 1-4 --num 4`)")
        print(f"   files in the result: {files}; files hashed: {len(counts)}")
        if per_file:
            print(
                f"   hashes per file: min {per_file[0]}, max {per_file[-1]} "
                f"(target: 1); cell wall time, median of 5: {wall * 1000:.0f} ms\n"
            )
        if not args.skip_sweep:
            os.environ.pop("NAIVE_LOCAL_TIME_SCALE", None)
            sweep = measure_sweep()
            ratio = sweep["wall"] / sweep["ideal"]
            print("3. 16-job seed sweep, 4 workers, real-time scale (FLUX Schnell, 5 s a job)")
            print(
                f"   wall {sweep['wall']:.1f} s, ideal {sweep['ideal']:.1f} s "
                f"(16 / 4 x 5 s): {ratio:.2f}x the ideal\n"
            )
        os.chdir(home)
    (module_lines, module), (class_lines, cls) = largest()
    print("4. Largest module and class")
    print(f"   module: {module} {module_lines} lines; class: {cls} {class_lines} lines")


if __name__ == "__main__":
    main()
