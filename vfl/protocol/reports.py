"""Program events on the wire and in the coordinator's store.

Parties forward what programs `ctx.report(...)` to the coordinator as protobuf `Event`s;
the coordinator keeps them as small JSON documents (the dashboard reads them with plain
SQL) and folds them into the same `JobResult` the simulator builds. Decoding checks every
type, so a hostile party can send at worst wrong numbers, never a crash or foreign data.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any

from vfl.errors import ProtocolError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.runtime.events import (
    AlignReport,
    EpochReport,
    Event,
    MetricsReport,
    OutputReport,
    PrivacyReport,
    Progress,
    StepReport,
)

MAX_VALUES = 256
"""Most named values one event may carry."""


class EventKind(StrEnum):
    """The kinds of reported event, by the names party.toml's `report` lists them."""

    PROGRESS = "progress"
    ALIGN = "align"
    EPOCH = "epoch"
    STEP = "step"
    METRICS = "metrics"
    PRIVACY = "privacy"
    OUTPUT = "output"


_KIND_OF: dict[type, EventKind] = {
    Progress: EventKind.PROGRESS,
    AlignReport: EventKind.ALIGN,
    EpochReport: EventKind.EPOCH,
    StepReport: EventKind.STEP,
    MetricsReport: EventKind.METRICS,
    PrivacyReport: EventKind.PRIVACY,
    OutputReport: EventKind.OUTPUT,
}


def kind_of(event: Event) -> EventKind:
    return _KIND_OF[type(event)]


def to_proto(event: Event) -> pb.Event:  # noqa: PLR0911 (one return per event kind)
    if isinstance(event, Progress):
        return pb.Event(
            progress=pb.ProgressEvent(phase=event.phase, done=event.done, total=event.total)
        )
    if isinstance(event, AlignReport):
        return pb.Event(
            align=pb.AlignEvent(
                rows=event.rows,
                intersection_size=event.intersection_size,
                protocol=event.protocol,
            )
        )
    if isinstance(event, EpochReport):
        return pb.Event(epoch=pb.EpochEvent(epoch=event.epoch, values=event.values))
    if isinstance(event, StepReport):
        return pb.Event(step=pb.StepEvent(epoch=event.epoch, batch=event.batch, loss=event.loss))
    if isinstance(event, PrivacyReport):
        return pb.Event(
            privacy=pb.PrivacyEvent(
                target_epsilon=event.target_epsilon,
                delta=event.delta,
                clip=event.clip,
                noise_multiplier=event.noise_multiplier,
                epochs=event.epochs,
                epsilon=event.epsilon,
                mechanism=event.mechanism,
            )
        )
    if isinstance(event, OutputReport):
        return pb.Event(output=pb.OutputEvent(name=event.name, path=event.path))
    return pb.Event(metrics=pb.MetricsEvent(split=event.split, values=event.values))


def from_proto(msg: pb.Event) -> Event:  # noqa: PLR0911 (one return per event kind)
    which = msg.WhichOneof("kind")
    if which == "progress":
        return Progress(_name(msg.progress.phase), msg.progress.done, msg.progress.total)
    if which == "align":
        a = msg.align
        return AlignReport(a.rows, a.intersection_size, _name(a.protocol))
    if which == "epoch":
        return EpochReport(msg.epoch.epoch, _values(dict(msg.epoch.values)))
    if which == "metrics":
        return MetricsReport(_name(msg.metrics.split), _values(dict(msg.metrics.values)))
    if which == "step":
        return StepReport(msg.step.epoch, msg.step.batch, msg.step.loss)
    if which == "privacy":
        p = msg.privacy
        target = p.target_epsilon if p.HasField("target_epsilon") else None
        return PrivacyReport(
            target,
            p.delta,
            p.clip,
            p.noise_multiplier,
            p.epochs,
            _values(dict(p.epsilon)),
            _name(p.mechanism or "label_dp"),
        )
    if which == "output":
        return OutputReport(_name(msg.output.name), _path(msg.output.path))
    raise ProtocolError("Report: event has no kind; update the party node")


def dedupe_key(party: str, event: Event) -> str:  # noqa: PLR0911 (one return per event kind)
    """Events that replace an earlier copy (a resumed program reports an epoch again)."""
    if isinstance(event, Progress):
        return f"progress/{party}/{event.phase}/{event.done}"
    if isinstance(event, AlignReport):
        return f"align/{party}"
    if isinstance(event, EpochReport):
        return f"epoch/{party}/{event.epoch}"
    if isinstance(event, StepReport):
        return f"step/{party}/{event.epoch}/{event.batch}"
    if isinstance(event, PrivacyReport):
        return f"privacy/{party}/{event.mechanism}"
    if isinstance(event, OutputReport):
        return f"output/{party}/{event.name}"
    return f"metrics/{party}/{event.split}"


def to_json(event: Event) -> str:
    return json.dumps({"type": type(event).__name__, **event.__dict__}, sort_keys=True)


def from_json(text: str) -> Event:  # noqa: PLR0911 (one return per event kind)
    data: dict[str, Any] = json.loads(text)
    kind = data.pop("type")
    if kind == "Progress":
        return Progress(str(data["phase"]), int(data["done"]), int(data["total"]))
    if kind == "AlignReport":
        return AlignReport(int(data["rows"]), int(data["intersection_size"]), data["protocol"])
    if kind == "EpochReport":
        return EpochReport(int(data["epoch"]), _values(data["values"]))
    if kind == "MetricsReport":
        return MetricsReport(str(data["split"]), _values(data["values"]))
    if kind == "StepReport":
        return StepReport(int(data["epoch"]), int(data["batch"]), float(data["loss"]))
    if kind == "PrivacyReport":
        target = data["target_epsilon"]
        return PrivacyReport(
            None if target is None else float(target),
            float(data["delta"]),
            float(data["clip"]),
            float(data["noise_multiplier"]),
            int(data["epochs"]),
            _values(data["epsilon"]),
            str(data.get("mechanism", "label_dp")),
        )
    if kind == "OutputReport":
        return OutputReport(str(data["name"]), str(data["path"]))
    raise ProtocolError(f"stored event: unknown type {kind!r}")


def _name(text: str) -> str:
    if not 0 < len(text) <= 64 or not text.isprintable():
        raise ProtocolError("Report: a phase, split or protocol name is empty or malformed")
    return text


def _path(text: str) -> str:
    if not 0 < len(text) <= 4096 or not text.isprintable():
        raise ProtocolError("Report: an output path is empty, over 4096 characters or malformed")
    return text


def _values(values: dict[str, Any]) -> dict[str, float]:
    if len(values) > MAX_VALUES:
        raise ProtocolError(f"Report: {len(values)} values in one event (limit {MAX_VALUES})")
    out: dict[str, float] = {}
    for key, value in values.items():
        number = float(value)
        if not math.isfinite(number) and not math.isnan(number):
            number = math.copysign(1e308, number)
        out[_name(key)] = number
    return out
