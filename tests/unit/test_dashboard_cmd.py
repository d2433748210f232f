"""`vfl dashboard`: Streamlit on loopback, headless, and a bad config fails before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfl.cli.dashboard_cmd import streamlit_command
from vfl.cli.main import main


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_streamlit_runs_headless_on_the_address_given() -> None:
    command = streamlit_command("coordinator_app.py", "127.0.0.1", 8501)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4].endswith("dashboard/coordinator_app.py")
    assert _option(command, "--server.address") == "127.0.0.1"
    assert _option(command, "--server.headless") == "true"
    assert _option(command, "--browser.gatherUsageStats") == "false"


def test_the_default_bind_address_is_loopback() -> None:
    from vfl.cli.main import build_parser  # noqa: PLC0415

    args = build_parser("dashboard").parse_args(["dashboard", "party", "--config", "p.toml"])
    assert args.address == "127.0.0.1"


def test_a_bad_config_fails_in_one_line_before_streamlit_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "coordinator.toml"
    config.write_text('listen = "0.0.0.0:50051"\ninsecure = true\n')
    assert main(["dashboard", "coordinator", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vfl: error: ") and "insecure" in err[0]
