"""The control frames between the process simulator and its participants: every event and
error comes back as what it was, and a frame that is not one of ours is refused instead of
building an object the participant chose."""

from __future__ import annotations

import json

import pytest

from vfl.errors import DataValidationError, JobAbortedError, ProtocolError, VflError
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
from vfl.runtime.process_frames import (
    FrameKind,
    PartyProcessError,
    decode_event,
    decode_failure,
    encode_event,
    encode_failure,
    frame,
    json_frame,
    parse,
)

EVENTS: list[Event] = [
    Progress("train", 3, 10),
    AlignReport(rows=240, intersection_size=200, protocol="ecdh"),
    EpochReport(2, {"loss": 0.25, "auc": float("nan")}),
    StepReport(epoch=1, batch=7, loss=0.5),
    MetricsReport("validation", {"auc": 0.8}),
    CurvesReport("train", (0.1, 0.5), (0.0, 0.2), (0.3, 1.0)),
    PrivacyReport(1.0, 1e-5, 1.0, 0.9, 3, {"bureau": 0.7}),
    OutputReport("scores", "/tmp/x/scores.csv"),
]


def _through_pipe(kind: FrameKind, payload: object) -> object:
    parsed_kind, text = parse(json_frame(kind, payload))
    assert parsed_kind == kind
    return json.loads(text)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_comes_back_as_it_was_sent(event: Event) -> None:
    record = _through_pipe(FrameKind.EVENTS, encode_event(event))
    back = decode_event(record)  # type: ignore[arg-type]

    assert type(back) is type(event)
    assert repr(back) == repr(event)  # repr: NaN is never equal to itself


def test_our_errors_come_back_as_their_class_with_message_and_exit_code() -> None:
    error = DataValidationError("bank.csv: label column 'y' has a single class")
    back = decode_failure(_through_pipe(FrameKind.DONE, encode_failure(error)))  # type: ignore[arg-type]

    assert type(back) is DataValidationError
    assert str(back) == str(error)
    assert back.exit_code == 2
    assert isinstance(decode_failure(encode_failure(JobAbortedError("x"))), JobAbortedError)


def test_other_errors_come_back_as_a_party_process_error_naming_their_type() -> None:
    back = decode_failure(encode_failure(BrokenPipeError()))

    assert isinstance(back, PartyProcessError)
    assert back.type_name == "BrokenPipeError"
    assert str(back) == "BrokenPipeError"  # failure_reason: never an empty reason
    assert back.exit_code == 1


def test_a_frame_naming_a_type_of_its_choice_is_refused() -> None:
    with pytest.raises(ProtocolError, match="unknown event type 'Popen'"):
        decode_event({"type": "Popen", "fields": {"args": ["sh"]}})
    with pytest.raises(ProtocolError, match="fields do not fit"):
        decode_event({"type": "Progress", "fields": {"phase": "train", "__class__": 1}})
    # an error type outside vfl.errors is never looked up elsewhere
    assert type(decode_failure({"type": "SystemExit", "message": "m", "exit_code": 1})) is (
        PartyProcessError
    )


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x63phase", b"\x01\xff\xfe"])
def test_a_malformed_frame_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="malformed"):
        parse(data)


def test_a_text_frame_keeps_its_text() -> None:
    assert parse(frame(FrameKind.RUN, "train")) == (FrameKind.RUN, "train")
    assert parse(frame(FrameKind.STOP)) == (FrameKind.STOP, "")
    assert issubclass(PartyProcessError, VflError)
