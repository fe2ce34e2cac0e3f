"""Benchmark of the embedded server: status requests per second and render time per image.

    python benchmarks/server.py [--seconds 5] [--concurrency 16]

The server runs in its own process (`naive-nb serve`), as a user's would, so the load generator
does not share its interpreter. The load is raw HTTP/1.1 keep-alive requests over asyncio streams:
an HTTP client library would itself be the bottleneck long before the server is. Prints a table of
measured figures beside the targets of issue 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time

KEY = "nv_sk_local_bench"
STATUS_TARGET = 1000.0  # requests/s
RENDER_TARGET_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "naive_nb.cli",
            "serve",
            "--port",
            str(port),
            "--api-key",
            KEY,
            "--rate-limit",
            "0",
            "--time-scale",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


async def hammer(port: int, path: str, seconds: float, concurrency: int) -> tuple[int, list[float]]:
    """Send GETs on `concurrency` keep-alive connections for `seconds`; count 200 answers."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\r\n"
    ).encode()
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    ok = 0

    async def connection() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            if head.startswith(b"HTTP/1.1 200"):
                ok += 1
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return ok, latencies


def render_times(repeats: int) -> dict[str, float]:
    from naive_nb.local.render import RenderRequest, encode, render

    figures: dict[str, list[float]] = {"render": [], "render+jpeg": [], "render+png": []}
    styles = ["flow", "orbs", "facets", "landscape", "rings", "stripes"]
    for i in range(repeats):
        req = RenderRequest(
            style=styles[i % len(styles)],
            prompt="a lighthouse at dusk",
            seed=i,
            width=1024,
            height=1024,
            steps=12,
        )
        started = time.perf_counter()
        image = render(req)
        drawn = time.perf_counter()
        encode(image, "jpeg")
        jpeg = time.perf_counter()
        encode(image, "png")
        png = time.perf_counter()
        figures["render"].append(drawn - started)
        figures["render+jpeg"].append(jpeg - started)
        figures["render+png"].append(png - jpeg + drawn - started)
    return {name: statistics.median(values) * 1000 for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()

    port = free_port()
    server = start_server(port)
    try:
        # one real job, so the status route has a job to report on
        import httpx

        auth = {"Authorization": f"Bearer {KEY}"}
        base = f"http://127.0.0.1:{port}"
        job = httpx.post(
            f"{base}/v1/images/generate",
            headers=auth,
            json={"input": {"prompt": "bench", "seed": 1}},
        ).json()
        asyncio.run(hammer(port, "/v1/status", 1.0, args.concurrency))  # warm-up
        rows = []
        for label, path in [
            ("GET /v1/jobs/{id}", f"/v1/jobs/{job['id']}"),
            ("GET /v1/status", "/v1/status"),
        ]:
            ok, latencies = asyncio.run(hammer(port, path, args.seconds, args.concurrency))
            rate = ok / args.seconds
            p50 = statistics.median(latencies) * 1000
            p95 = statistics.quantiles(latencies, n=20)[18] * 1000
            rows.append(
                (
                    f"{label} requests/s",
                    f"{rate:,.0f}",
                    f">= {STATUS_TARGET:,.0f}",
                    f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {args.concurrency} connections",
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=10)

    renders = render_times(args.renders)
    for name, ms in renders.items():
        target = f"<= {RENDER_TARGET_MS:.0f} ms" if name == "render" else "(reported)"
        rows.append(
            (
                f"{name} 1024x1024, median",
                f"{ms:.1f} ms",
                target,
                f"{args.renders} renders, 6 styles, 12 steps",
            )
        )

    print(f"embedded server benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("measure", "measured", "target", "conditions")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
