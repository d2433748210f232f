"""The envelope: the unit every channel carries between two programs of one job."""

from __future__ import annotations

from dataclasses import dataclass

from vfl.protocol.v1 import envelope_pb2


@dataclass(frozen=True)
class Envelope:
    """`body` is a serialised message; the header routes it and never carries data."""

    job_id: str
    src: str
    dst: str
    kind: str
    seq: str
    body: bytes

    def to_bytes(self) -> bytes:
        return envelope_pb2.Envelope(
            job_id=self.job_id,
            src=self.src,
            dst=self.dst,
            kind=self.kind,
            seq=self.seq,
            body=self.body,
        ).SerializeToString()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        pb = envelope_pb2.Envelope()
        pb.ParseFromString(data)
        return cls(pb.job_id, pb.src, pb.dst, pb.kind, pb.seq, pb.body)

    def header(self) -> bytes:
        """The routing fields as bytes, bound to the body as associated data when sealed."""
        return "\x1f".join((self.job_id, self.src, self.dst, self.kind, self.seq)).encode()
