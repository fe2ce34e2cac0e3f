"""Re-run benchmark (issue 12): the study notebook cold, then warm on its store.

``notebooks/study.ipynb`` is executed top to bottom by nbclient on a fresh kernel each time, on
an embedded server in this process (so its request log and job ledger say what was sent and
charged; the kernel reaches it through ``NAIVE_BASE_URL`` and a local key):

- **cold**: an empty folder, so an empty store: every job is made and paid for;
- **warm**: the same folder again, a new kernel (what "Restart and run all" does): the store
  answers every request;
- **warm, new server**: the same folder, a server that has never seen these jobs (a kernel
  restarted on another day; the hosted API after the jobs expired): the store still answers;
- **without a store** (the baseline: a notebook tool without a request cache): a second empty
  folder, which pays for everything again.

Reported per run: requests the server received (all, and ``POST /v1/images/generate``), credits
charged (the server's completed jobs), and wall time of the whole notebook (kernel start
included). Target: 0 requests and 0 credits warm.

    python benchmarks/rerun.py [--time-scale 0.1]

About a minute at the default time scale (jobs last 0.1 x their model's typical time). Nothing
leaves the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from naive_nb import demo  # noqa: E402
from naive_nb.local import LocalServer, serve_local  # noqa: E402

STUDY = ROOT / "notebooks" / "study.ipynb"
LOCAL_KEY = "nv_local_rerun_benchmark"


@dataclass
class Row:
    name: str
    requests: int
    generates: int
    credits: float
    wall: float


def run_study(server: LocalServer, folder: Path, name: str) -> Row:
    """Execute the study in ``folder`` against ``server``; what the server saw meanwhile."""
    requests_before = len(server.request_log)
    jobs_before = {job["id"] for job in server.jobs()}
    notebook = demo.read_clean(STUDY)
    env = {"NAIVE_API_KEY": LOCAL_KEY, "NAIVE_BASE_URL": server.url}
    started = time.perf_counter()
    demo.execute(notebook, folder, timeout=600, env=env)
    wall = time.perf_counter() - started
    sent = server.request_log[requests_before:]
    new_jobs = [job for job in server.jobs() if job["id"] not in jobs_before]
    return Row(
        name=name,
        requests=len(sent),
        generates=sum(1 for r in sent if r.method == "POST" and r.path.endswith("/generate")),
        credits=sum(float(job.get("credits_used") or 0) for job in new_jobs),
        wall=wall,
    )


def table(rows: list[Row]) -> str:
    baseline = next(row for row in rows if row.name.startswith("without"))
    head = ["run", "requests", "generate POSTs", "credits charged", "wall time", "vs baseline"]
    lines = [head]
    for row in rows:
        ratio = f"{row.wall / baseline.wall:.2f}x" if baseline.wall else "-"
        lines.append(
            [
                row.name,
                str(row.requests),
                str(row.generates),
                f"{row.credits:g}",
                f"{row.wall:.1f} s",
                ratio,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.1)
    options = parser.parse_args()

    def server() -> LocalServer:
        return serve_local(api_key=LOCAL_KEY, time_scale=options.time_scale, rate_limit=None)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="naive-rerun-") as temporary:
        study, elsewhere = Path(temporary) / "study", Path(temporary) / "no-store"
        with server() as first:
            rows.append(run_study(first, study, "cold (empty store)"))
            rows.append(run_study(first, study, "warm (same store, new kernel)"))
        with server() as fresh:
            rows.append(run_study(fresh, study, "warm, new server"))
        with server() as other:
            rows.append(run_study(other, elsewhere, "without a store (baseline)"))
    print(f"notebooks/study.ipynb, executed by nbclient; time scale {options.time_scale:g}")
    print(table(rows))
    warm = [row for row in rows if row.name.startswith("warm")]
    free = all(row.requests == 0 and row.credits == 0 for row in warm)
    print(f"target 0 requests and 0 credits warm: {'met' if free else 'NOT met'}")


if __name__ == "__main__":
    main()
