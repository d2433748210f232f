"""The blackbox transport's reply, `TransportOutbound`, encoded by hand.

spu's blackbox link (yacl `BrpcBlackBoxLink`) expects every reply of the transport to be
the protobuf `TransportOutbound{bytes payload = 1; string code = 2; string message = 3}`.
Three length-delimited fields do not justify generated code or a .proto of a foreign
schema in our tree, so this module writes and reads them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TransportCode(StrEnum):
    """The codes the blackbox link reads in `TransportOutbound.code`."""

    OK = "E0000000000"
    NOT_FOUND = "E0000000404"
    """A pop found nothing yet: the link polls again."""
    BAD_REQUEST = "E0000000400"
    TOO_LARGE = "E0000000413"


_PAYLOAD, _CODE, _MESSAGE = 1, 2, 3
_LENGTH_DELIMITED = 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(data)) + data


@dataclass(frozen=True)
class TransportOutbound:
    """One reply of the transport to a push or a pop."""

    code: TransportCode
    payload: bytes = b""
    message: str = ""

    def encode(self) -> bytes:
        out = _field(_CODE, self.code.value.encode())
        if self.payload:
            out = _field(_PAYLOAD, self.payload) + out
        if self.message:
            out += _field(_MESSAGE, self.message.encode())
        return out

    @classmethod
    def decode(cls, data: bytes) -> TransportOutbound:
        """Parse a reply (tests read the shim's replies with it); unknown fields are refused."""
        fields: dict[int, bytes] = {}
        at = 0
        while at < len(data):
            key, at = _read_varint(data, at)
            size, at = _read_varint(data, at)
            if key & 7 != _LENGTH_DELIMITED or key >> 3 not in (_PAYLOAD, _CODE, _MESSAGE):
                raise ValueError(f"TransportOutbound: unexpected field key {key}")
            if at + size > len(data):
                raise ValueError("TransportOutbound: field runs past the end")
            fields[key >> 3] = data[at : at + size]
            at += size
        return cls(
            TransportCode(fields.get(_CODE, b"").decode()),
            fields.get(_PAYLOAD, b""),
            fields.get(_MESSAGE, b"").decode(),
        )


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("TransportOutbound: truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if not byte & 0x80:
            return value, at
