"""The `naive-nb` command line: `naive-nb serve` runs the embedded server in the foreground."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence

from naive_nb._version import __version__

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
    serve.add_argument(
        "--spread",
        type=_fraction,
        default=0.2,
        help="per-job duration spread, a fraction (default 0.2)",
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


def serve(args: argparse.Namespace) -> int:
    from naive_nb.local.config import ServerConfig
    from naive_nb.local.faults import Faults
    from naive_nb.local.server import listening_socket, run_foreground

    key = args.api_key or os.environ.get("NAIVE_LOCAL_API_KEY") or DEFAULT_LOCAL_KEY
    config = ServerConfig(
        api_keys=(key,),
        time_scale=args.time_scale,
        spread=args.spread,
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
    )
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
