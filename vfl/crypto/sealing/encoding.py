"""Unambiguous byte strings for what gets signed, derived from or authenticated.

Every field is length-prefixed, so no choice of names, job ids or sequence numbers can
make two different tuples encode to the same bytes (a `\\x1f`-joined string could).
"""

from __future__ import annotations


def framed(*parts: bytes | str) -> bytes:
    out = bytearray()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)
