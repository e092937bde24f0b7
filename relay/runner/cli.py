"""The ``local-runner`` subcommand: serve the local Notte Functions API with uvicorn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["DEFAULT_SYNC_WAIT", "add_parser", "run_from_args"]

DEFAULT_SYNC_WAIT = 300.0  # the SDK's FUNCTION_RUN_TIMEOUT


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``local-runner`` to ``subparsers`` and return its parser."""
    parser = subparsers.add_parser(
        "local-runner",
        help="serve a Notte-compatible Functions API on localhost",
        description=(
            "Serve Notte's Functions API (start, create, start by run id, get, stop and list "
            "runs) on localhost, running DIR/<function_id>.py for offline development and tests."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8787, help="port (default: %(default)s)")
    parser.add_argument(
        "--functions",
        metavar="DIR",
        type=Path,
        default=None,
        help="directory of <function_id>.py files defining run(**variables)",
    )
    parser.add_argument(
        "--echo-unknown",
        action="store_true",
        help="run a function without a file by echoing its variables (default: 404)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help="require x-notte-api-key or Authorization: Bearer to equal KEY",
    )
    parser.add_argument(
        "--sync-wait",
        metavar="SECONDS",
        type=_seconds,
        default=DEFAULT_SYNC_WAIT,
        help="how long a non-streamed start waits before answering 'active' (default: 300)",
    )
    parser.add_argument(
        "--latency",
        metavar="SECONDS",
        type=_seconds,
        default=0.0,
        help="delay added before answering (default: 0)",
    )
    parser.add_argument(
        "--run-duration",
        metavar="SECONDS",
        type=_seconds,
        default=0.0,
        help="how long each admitted run takes, counted as in flight (default: 0)",
    )
    parser.add_argument(
        "--failure-rate",
        metavar="F",
        type=_fraction,
        default=0.0,
        help="fraction of runs answered 500 'injected failure' (0..1, default: 0)",
    )
    parser.add_argument(
        "--max-concurrency",
        metavar="N",
        type=_positive_int,
        default=None,
        help="answer 429 with Retry-After: 1 while N runs are in progress",
    )
    for flag, what in (
        ("--fail-next", "answer the next N run starts 500 'injected failure'"),
        ("--throttle-next", "answer the next N run starts 429"),
        ("--cut-after-start", "start the next N runs, then close the connection unanswered"),
    ):
        parser.add_argument(flag, metavar="N", type=_count, default=0, help=f"{what} (default: 0)")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the server until interrupted; the exit status."""
    # the server and the app: only when it runs (the parser is built without them)
    import uvicorn

    from relay._server import AnnouncingServer, http_url
    from relay.logs import configure_logging, get_logger
    from relay.runner.app import RunnerOptions, create_runner_app

    functions_dir: Path | None = args.functions
    if functions_dir is not None and not functions_dir.is_dir():
        print(f"relay local-runner: --functions {functions_dir}: not a directory", file=sys.stderr)
        return 2
    options = RunnerOptions(
        functions_dir=functions_dir,
        api_key=args.api_key,
        latency=args.latency,
        run_duration=args.run_duration,
        failure_rate=args.failure_rate,
        max_concurrency=args.max_concurrency,
        echo_unknown=args.echo_unknown,
        sync_wait=args.sync_wait,
        fail_next=args.fail_next,
        throttle_next=args.throttle_next,
        cut_after_start=args.cut_after_start,
    )
    config = uvicorn.Config(
        create_runner_app(options),
        host=args.host,
        port=args.port,
        loop="auto",  # uvloop and httptools when installed (uvicorn[standard] brings them)
        http="auto",
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # nothing is behind a proxy: no per-request header rewriting
        lifespan="off",
    )
    # One format, as relay serve: JSON log lines (the address as an event) or, on a
    # terminal, text.
    json_lines = configure_logging()
    host = args.host

    def listening(port: int) -> None:
        if json_lines:
            get_logger().info("relay.local_runner.listening", url=http_url(host, port))
        else:
            print(f"relay local-runner listening on {http_url(host, port)}", flush=True)

    AnnouncingServer(config, listening).run()
    return 0
