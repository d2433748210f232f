"""`--log-format json`: one JSON object per line, for log shippers.

Each line has `ts` (ISO 8601, UTC), `level`, `logger` and `message`, then whatever
structured fields the call passed with `extra=` (JSON-safe ones as they are, others by
`repr`), then `exception` with the traceback when there is one. The message is the same
text as in the plain format: what may be logged is decided where the call is made (never
a raw ID, row, tensor, key or ciphertext; STYLE.md), not here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# attributes every LogRecord has: anything else on a record came from `extra=`
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogFormat(StrEnum):
    """How the CLI writes log lines."""

    TEXT = "text"
    JSON = "json"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value if _plain(value) else repr(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def configure_logging(verbose: bool, log_format: str = LogFormat.TEXT) -> None:
    """The root logger as the CLI sets it up: INFO with `verbose`, else WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    # force: a library that set up the root logger on import (opacus does) loses
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True
    )


def add_log_format(parser: Any) -> None:
    """`--log-format {text,json}` on a long-running command's parser."""
    parser.add_argument(
        "--log-format",
        choices=[f.value for f in LogFormat],
        default=LogFormat.TEXT.value,
        help="log lines as text (default) or one JSON object per line",
    )
