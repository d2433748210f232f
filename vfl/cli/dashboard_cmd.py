"""`vfl dashboard coordinator --config coordinator.toml` and `vfl dashboard party --config
party.toml`: start a Streamlit server on the admin or the party view.

Both bind to 127.0.0.1 unless told otherwise (`--address`), run headless (no browser is
opened, no usage statistics are sent) and read their config before Streamlit starts, so
a bad config fails here in one line like every other command.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import dashboard
from dashboard.settings import ENV, DashboardSettings
from vfl.cli.commands import help_for
from vfl.config.coordinator_config import is_loopback, load_coordinator_config
from vfl.config.party_config import load_party_config
from vfl.errors import ConfigError

APPS = Path(dashboard.__file__).resolve().parent


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("dashboard", help=help_for("dashboard"))
    inner = p.add_subparsers(dest="dashboard_command", required=True)
    admin = inner.add_parser("coordinator", help="the coordinator admin view")
    admin.add_argument("--config", type=Path, required=True, help="coordinator.toml")
    admin.add_argument(
        "--coordinator", default="", help="admin API host:port (default: the config's listen)"
    )
    admin.add_argument(
        "--certs",
        type=Path,
        default=os.environ.get("VFL_CERTS"),
        help="folder with ca.pem and the operator certificate (default: tls.ca's folder)",
    )
    admin.add_argument(
        "--as", dest="identity", default="operator", help="whose certificate (an operator's)"
    )
    admin.set_defaults(handler=run_coordinator)
    party = inner.add_parser("party", help="a party's own view")
    party.add_argument("--config", type=Path, required=True, help="party.toml")
    party.set_defaults(handler=run_party)
    for cmd in (admin, party):
        cmd.add_argument("--address", default="127.0.0.1", help="bind address (default loopback)")
        cmd.add_argument("--port", type=int, default=8501, help="HTTP port (default 8501)")


def run_coordinator(args: argparse.Namespace) -> int:
    load_coordinator_config(args.config)  # fail here, in one line, not in the browser
    settings = DashboardSettings(
        config=str(args.config.resolve()),
        coordinator=args.coordinator,
        certs=str(args.certs.resolve()) if args.certs else "",
        identity=args.identity,
    )
    return _serve("coordinator_app.py", settings, args.address, args.port)


def run_party(args: argparse.Namespace) -> int:
    load_party_config(args.config)
    return _serve(
        "party_app.py",
        DashboardSettings(config=str(args.config.resolve())),
        args.address,
        args.port,
    )


def streamlit_command(app: str, address: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APPS / app),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def _serve(app: str, settings: DashboardSettings, address: str, port: int) -> int:
    if not is_loopback(f"{address}:0"):
        print(
            f"vfl: warning: the dashboard listens on {address}: anyone who reaches it acts "
            "with this view's certificate; put it behind your own authentication",
            file=sys.stderr,
        )
    env = {**os.environ, ENV: settings.to_env()}
    print(f"dashboard: http://{address}:{port}/", flush=True)
    command = streamlit_command(app, address, port)
    try:
        # this process becomes the server: a signal to it (Ctrl-C, SIGTERM from a service
        # manager or a test) stops Streamlit itself, with no orphaned child left serving
        os.execve(command[0], command, env)  # noqa: S606 (our interpreter and app)
    except OSError as exc:
        raise ConfigError(f"cannot start streamlit ({exc.strerror})") from None
    return 1  # not reached: execve returns only by raising
