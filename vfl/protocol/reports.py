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

from vfl.curves import MAX_POINTS
from vfl.errors import ProtocolError
from vfl.protocol.v1 import coordinator_pb2 as pb
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

MAX_VALUES = 256
"""Most named values one event may carry."""


class EventKind(StrEnum):
    """The kinds of reported event, by the names party.toml's `report` lists them."""

    PROGRESS = "progress"
    ALIGN = "align"
    EPOCH = "epoch"
    STEP = "step"
    METRICS = "metrics"
    CURVES = "curves"
    PRIVACY = "privacy"
    OUTPUT = "output"


_KIND_OF: dict[type, EventKind] = {
    Progress: EventKind.PROGRESS,
    AlignReport: EventKind.ALIGN,
    EpochReport: EventKind.EPOCH,
    StepReport: EventKind.STEP,
    MetricsReport: EventKind.METRICS,
    CurvesReport: EventKind.CURVES,
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
    if isinstance(event, CurvesReport):
        return pb.Event(
            curves=pb.CurvesEvent(
                split=event.split, depth=event.depth, fpr=event.fpr, tpr=event.tpr
            )
        )
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
    if which == "curves":
        c = msg.curves
        return _curves(_name(c.split), list(c.depth), list(c.fpr), list(c.tpr))
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
    if isinstance(event, CurvesReport):
        return f"curves/{party}/{event.split}"
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
    if kind == "CurvesReport":
        return _curves(str(data["split"]), data["depth"], data["fpr"], data["tpr"])
    raise ProtocolError(f"stored event: unknown type {kind!r}")


def _name(text: str) -> str:
    if not 0 < len(text) <= 64 or not text.isprintable():
        raise ProtocolError("Report: a phase, split or protocol name is empty or malformed")
    return text


def _curves(split: str, depth: list[Any], fpr: list[Any], tpr: list[Any]) -> CurvesReport:
    # the end points (0, 0) and (1, 1) come on top of the quantile thresholds
    if not 2 <= len(depth) <= MAX_POINTS + 2 or not len(depth) == len(fpr) == len(tpr):
        raise ProtocolError(
            f"Report: curves of {split!r} have {len(depth)}/{len(fpr)}/{len(tpr)} points "
            f"(want equal counts, 2 to {MAX_POINTS + 2})"
        )
    columns = []
    for column in (depth, fpr, tpr):
        shares = tuple(float(v) for v in column)
        if not all(0.0 <= v <= 1.0 for v in shares):  # NaN fails too
            raise ProtocolError(f"Report: curves of {split!r} hold a share outside [0, 1]")
        columns.append(shares)
    return CurvesReport(split, *columns)


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
