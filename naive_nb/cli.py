"""The `naive-nb` command line: `naive-nb serve` runs the embedded server in the foreground."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from naive_nb._version import __version__

if TYPE_CHECKING:  # the server is imported only to serve: `--help` stays fast
    from naive_nb.local.config import ServerConfig

# the names `naive_nb.local.timing.DISTRIBUTIONS` holds; kept here so --help imports no server
DISTRIBUTIONS = ("uniform", "lognormal")
# a documented, non-secret default for a loopback-only dev server; any real use passes --api-key
DEFAULT_LOCAL_KEY = "nv_sk_local_dev"


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"must be above 0 (at most 1000), got {text}")
    return value


def _sigma(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 3:
        raise argparse.ArgumentTypeError(f"must be from 0 to 3, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="naive-nb", description=__doc__)
    parser.add_argument("--version", action="version", version=f"naive-nb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the embedded Naive server (local preview engine)",
        description="Run the embedded Naive images API server in the foreground.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    serve.add_argument(
        "--api-key",
        default=None,
        help="the key clients must send; default: $NAIVE_LOCAL_API_KEY, else "
        f"{DEFAULT_LOCAL_KEY!r}",
    )
    serve.add_argument(
        "--time-scale",
        type=_non_negative,
        default=1.0,
        help="job duration = model estimate x this (default 1.0)",
    )
    serve.add_argument("--workers", type=int, default=4, help="jobs processed at once")
    serve.add_argument("--balance", type=float, default=100.0, help="starting credits")
    serve.add_argument(
        "--rate-limit", type=int, default=600, help="requests per minute per key; 0 for no limit"
    )
    serve.add_argument(
        "--file-ttl",
        type=_non_negative,
        default=3600.0,
        help="seconds result files stay downloadable",
    )
    times = serve.add_argument_group(
        "job times",
        "Jobs last about their model's estimate x --time-scale; the server always announces "
        "that estimate, and real times deviate from it as set here.",
    )
    times.add_argument(
        "--durations",
        choices=DISTRIBUTIONS,
        default="uniform",
        help="uniform: estimate +-spread; lognormal: median at the estimate (default uniform)",
    )
    times.add_argument(
        "--spread",
        type=_fraction,
        default=0.2,
        help="uniform: per-job duration spread, a fraction (default 0.2)",
    )
    times.add_argument(
        "--sigma",
        type=_sigma,
        default=0.35,
        help="lognormal: sigma of ln(duration) (default 0.35: p95 at 1.78x the median)",
    )
    times.add_argument(
        "--slow-rate",
        type=_fraction,
        default=0.0,
        help="fraction of jobs that take --slow-factor times as long (cold starts; default 0)",
    )
    times.add_argument(
        "--slow-factor",
        type=_positive,
        default=3.0,
        help="how many times longer a slow job takes (default 3)",
    )
    times.add_argument(
        "--queue-delay",
        type=_non_negative,
        default=0.0,
        help="mean seconds a job stays queued before it starts, x --time-scale (default 0)",
    )
    times.add_argument(
        "--no-progress",
        action="store_true",
        help="job replies carry no progress field, as the hosted API may",
    )
    faults = serve.add_argument_group("fault injection")
    faults.add_argument(
        "--latency", type=_non_negative, default=0.0, help="seconds added to every answer"
    )
    faults.add_argument(
        "--error-rate", type=_fraction, default=0.0, help="fraction of requests answered 500"
    )
    faults.add_argument(
        "--drop-rate",
        type=_fraction,
        default=0.0,
        help="fraction of submits whose reply is lost after the job was created",
    )
    faults.add_argument(
        "--job-failure-rate", type=_fraction, default=0.0, help="fraction of jobs that fail"
    )
    faults.add_argument(
        "--no-idempotency",
        action="store_true",
        help="ignore Idempotency-Key, as the hosted API may",
    )
    return parser


def server_config(args: argparse.Namespace, key: str) -> ServerConfig:
    """The embedded server's settings from `naive-nb serve`'s flags."""
    from naive_nb.local.config import ServerConfig
    from naive_nb.local.faults import Faults
    from naive_nb.local.timing import Timing

    return ServerConfig(
        api_keys=(key,),
        time_scale=args.time_scale,
        workers=args.workers,
        balance=args.balance,
        rate_limit=args.rate_limit or None,
        file_ttl=args.file_ttl,
        faults=Faults(
            latency=args.latency,
            error_rate=args.error_rate,
            drop_after_create_rate=args.drop_rate,
            job_failure_rate=args.job_failure_rate,
            idempotency=not args.no_idempotency,
        ),
        timing=Timing(
            distribution=args.durations,
            spread=args.spread,
            sigma=args.sigma,
            slow_rate=args.slow_rate,
            slow_factor=args.slow_factor,
            queue_delay=args.queue_delay,
            omit_progress=args.no_progress,
        ),
    )


def serve(args: argparse.Namespace) -> int:
    from naive_nb.local.server import listening_socket, run_foreground

    key = args.api_key or os.environ.get("NAIVE_LOCAL_API_KEY") or DEFAULT_LOCAL_KEY
    config = server_config(args, key)
    try:  # bound before the banner: a busy port is the only thing said
        sock = listening_socket(args.host, args.port)
    except OSError as error:
        advice = {
            errno.EADDRINUSE: "Stop what uses it, or pick another --port.",
            errno.EACCES: "Pick a port from 1024 up with --port.",
        }.get(error.errno or 0, "Check --host and --port.")
        print(
            f"naive-nb serve: cannot listen on {args.host}:{args.port}: "
            f"{error.strerror or error}. {advice}",
            file=sys.stderr,
        )
        return 1
    print(banner(args.host, sock.getsockname()[1], key), flush=True)
    try:
        run_foreground(config, sock)
    except KeyboardInterrupt:  # uvicorn has shut down gracefully and re-raised the Ctrl-C
        print("naive-nb serve: stopped.", flush=True)
    return 0


def banner(host: str, port: int, key: str) -> str:
    """What to set to use this server: both variables, as the client needs both."""
    address = f"[{host}]" if ":" in host else host
    # a server listening on every interface is reached on loopback from this machine
    reach = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(address, address)
    # the local key is a test key and this is the server's own console; a key that looks like
    # a hosted one, or is this shell's NAIVE_API_KEY, is someone's real key and never echoed
    hosted = key.startswith("nv_sk_live_") or key == os.environ.get("NAIVE_API_KEY")
    shown = "<the key you gave (not shown: it looks like a hosted key)>" if hosted else key
    return (
        f"naive-nb {__version__} local preview engine on http://{address}:{port} "
        "(Ctrl-C stops it). To use it, set both:\n"
        f"  export NAIVE_BASE_URL=http://{reach}:{port}\n"
        f"  export NAIVE_API_KEY={shown}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
