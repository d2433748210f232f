"""`--log-format json`: one object per line with ts, level, logger, message, the call's
structured fields and the traceback; both serve commands take the flag."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from vfl.cli.main import build_parser
from vfl.observability.json_logs import JsonFormatter, configure_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _line(record: logging.LogRecord) -> dict[str, object]:
    text = JsonFormatter().format(record)
    assert "\n" not in text
    out: dict[str, object] = json.loads(text)
    return out


def test_a_record_is_one_json_object_with_its_structured_fields() -> None:
    logger = logging.getLogger("vfl.test")
    record = logger.makeRecord(
        "vfl.test",
        logging.INFO,
        __file__,
        1,
        "phase %s took %d s",
        ("train", 3),
        None,
        extra={"phase": "train", "seconds": 3, "odd": object()},
    )
    line = _line(record)
    assert line["level"] == "INFO" and line["logger"] == "vfl.test"
    assert line["message"] == "phase train took 3 s"
    assert str(line["ts"]).endswith("+00:00")
    assert line["phase"] == "train" and line["seconds"] == 3
    assert str(line["odd"]).startswith("<object object")


def test_a_traceback_stays_inside_its_line() -> None:
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    line = _line(record)
    assert "ValueError: broken" in str(line["exception"])


@pytest.mark.usefixtures("restore_root")
def test_configure_logging_json_writes_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(verbose=True, log_format="json")
    logging.getLogger("vfl.cli").info("serving on %s", "127.0.0.1:1")
    err = capsys.readouterr().err.strip().splitlines()
    assert json.loads(err[-1])["message"] == "serving on 127.0.0.1:1"


@pytest.mark.usefixtures("restore_root")
def test_configure_logging_text_is_the_old_format() -> None:
    configure_logging(verbose=False)
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert not isinstance(root.handlers[0].formatter, JsonFormatter)


@pytest.mark.parametrize("command", ["coordinator", "party"])
def test_both_serve_commands_take_log_format(command: str) -> None:
    args = build_parser(command).parse_args(
        [command, "serve", "--config", "x.toml", "--log-format", "json"]
    )
    assert args.log_format == "json"
    with pytest.raises(SystemExit):
        build_parser(command).parse_args(
            [command, "serve", "--config", "x.toml", "--log-format", "xml"]
        )
