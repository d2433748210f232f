"""`vfl coordinator serve --config coordinator.toml`: run the coordinator until stopped."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path
from typing import Any

from coordinator.server import CoordinatorServer
from vfl.cli.commands import help_for
from vfl.config.coordinator_config import load_coordinator_config
from vfl.observability.json_logs import add_log_format


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("coordinator", help=help_for("coordinator"))
    inner = p.add_subparsers(dest="coordinator_command", required=True)
    serve = inner.add_parser("serve", help="serve parties and the admin API")
    serve.add_argument("--config", type=Path, required=True, help="coordinator.toml")
    serve.add_argument("--port-file", type=Path, help="write host:port here once listening")
    add_log_format(serve)
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    config = load_coordinator_config(args.config)
    server = CoordinatorServer(config)
    server.start(args.port_file)
    print(
        f"coordinator: serving on {server.address} ({'insecure' if config.insecure else 'mTLS'})",
        flush=True,
    )
    if config.metrics.enabled:
        print(f"coordinator: metrics on {server.metrics_endpoint.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.5):
            pass
    server.stop()
    return 0
