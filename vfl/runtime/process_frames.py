"""What crosses the control pipe between the simulator and a participant's process.

`simulate(backend="processes")` runs each participant in a spawned process. Envelopes go
from party to party as protobuf bytes over their own pipes (`vfl.runtime.mesh_hub`); the
control pipe to the parent carries only these frames: a kind byte, then UTF-8 text or
JSON. Nothing on either pipe is unpickled, so a participant cannot make the parent or a
peer build an arbitrary object: events and errors are rebuilt from fixed tables of our
own types, and whatever else a party sends is refused as a `ProtocolError`.
"""

from __future__ import annotations

import dataclasses
import json
from enum import IntEnum
from typing import Any

from vfl import errors
from vfl.errors import ProtocolError, VflError, failure_reason
from vfl.runtime.events import (
    AlignReport,
    CurvesReport,
    EpochReport,
    Event,
    MetricsReport,
    OutputReport,
    PrivacyReport,
    Progress,
    StepReport,
)


class FrameKind(IntEnum):
    """The first byte of a control frame."""

    RUN = 1
    """parent → participant: run this phase (UTF-8 phase name)."""
    ABORT = 2
    """parent → participant: a peer failed; wake every wait of the job (UTF-8 reason)."""
    STOP = 3
    """parent → participant: the job is over; exit."""
    LOADED = 4
    """participant → parent: its rows are read (JSON: a failure record or null)."""
    EVENTS = 5
    """participant → parent: events its programs reported, in order (JSON list)."""
    DONE = 6
    """participant → parent: the phase ended (JSON: byte totals and a failure or null)."""


_EVENTS: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        Progress,
        AlignReport,
        EpochReport,
        StepReport,
        MetricsReport,
        CurvesReport,
        PrivacyReport,
        OutputReport,
    )
}

_ERRORS: dict[str, type[VflError]] = {
    name: cls
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, VflError)
}


class PartyProcessError(VflError):
    """An error that is not one of ours (`RuntimeError`, `OSError`...) raised in a
    participant's process: its message, and its type's name in `type_name`."""

    def __init__(self, message: str, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name


def frame(kind: FrameKind, payload: str = "") -> bytes:
    return bytes([kind]) + payload.encode()


def json_frame(kind: FrameKind, payload: object) -> bytes:
    return frame(kind, json.dumps(payload))


def parse(data: bytes) -> tuple[FrameKind, str]:
    """The kind and text of a frame; a ProtocolError for anything else."""
    try:
        return FrameKind(data[0]), data[1:].decode()
    except (IndexError, ValueError) as bad:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"control frame of {len(data)} bytes is malformed") from bad


def encode_event(event: Event) -> dict[str, Any]:
    return {"type": type(event).__name__, "fields": dataclasses.asdict(event)}


def decode_event(record: dict[str, Any]) -> Event:
    """The event `encode_event` wrote; JSON lists come back as the tuples they were."""
    cls = _EVENTS.get(str(record.get("type")))
    if cls is None:
        raise ProtocolError(f"control frame: unknown event type {record.get('type')!r}")
    fields: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in record["fields"].items()
    }
    try:
        return cls(**fields)
    except TypeError as bad:
        raise ProtocolError(f"control frame: {cls.__name__} fields do not fit: {bad}") from bad


def encode_failure(exc: BaseException) -> dict[str, Any]:
    """What the parent needs to raise the error again: never a traceback or its locals."""
    return {
        "type": type(exc).__name__,
        "message": failure_reason(exc),
        "exit_code": exc.exit_code if isinstance(exc, VflError) else 1,
    }


def decode_failure(record: dict[str, Any]) -> VflError:
    """Our own error class with the same message, or a `PartyProcessError` naming it."""
    message, type_name = str(record["message"]), str(record["type"])
    cls = _ERRORS.get(type_name)
    error = cls(message) if cls is not None else PartyProcessError(message, type_name)
    error.exit_code = int(record["exit_code"])
    return error
