"""IDs as the 16-byte keys spu sees, and the CSV files it reads and writes.

spu reads CSV, and an ID may hold commas or quotes; so it is given a fixed-width hex key
per ID instead: SHA-256 of the normalised ID, domain-separated, first 16 bytes (a false
match needs a 128-bit collision, as psi/matching.py). RR22 itself hides the keys from the
peer, so the hash needs no secret. Results come back as keys and are matched to
positions with psi/matching.py, in numpy, not a dict of strings.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from psi.ids import IdSource
from psi.matching import KEY_BYTES
from vfl.errors import ProtocolError

_DOMAIN = b"vfl/rr22/id\x00"
_SHA256_BYTES = 32
COLUMN = "id"


def id_keys(source: IdSource) -> NDArray[np.uint8]:
    """One key per ID of `source`, in its order."""
    sha256 = hashlib.sha256
    parts = []
    for chunk in source.chunks():
        # List comprehensions over the chunk, not a generator per ID: ~25 % faster per ID.
        salted = [_DOMAIN + i for i in map(str.encode, chunk)]
        digests = b"".join([sha256(m).digest() for m in salted])
        full = np.frombuffer(digests, dtype=np.uint8).reshape(-1, _SHA256_BYTES)
        parts.append(full[:, :KEY_BYTES].copy())
    return np.concatenate(parts) if parts else np.zeros((0, KEY_BYTES), dtype=np.uint8)


_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % b for b in range(256)), dtype=np.uint16)
"""Entry b: the two lowercase hex digits of byte b, as ASCII in one uint16 (a flat table:
`take` on it is several times faster than indexing a (256, 2) one)."""
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)
"""ASCII byte -> its hex value, 255 for a byte that is no hex digit."""
_BLOCK = 1 << 16
_LINE = 2 * KEY_BYTES + 1


def write_keys(path: Path, keys: NDArray[np.uint8]) -> None:
    """`keys` as spu's input CSV: the header, then 32 lowercase hex digits a line (encoded
    in numpy a block at a time: a Python string per key cost ~0.4 s per million)."""
    with path.open("wb") as out:
        out.write(COLUMN.encode() + b"\n")
        for start in range(0, len(keys), _BLOCK):
            block = keys[start : start + _BLOCK]
            lines = np.empty((len(block), _LINE), dtype=np.uint8)
            digits = np.take(_HEX_PAIRS, block).view(np.uint8)
            lines[:, :-1] = digits.reshape(len(block), 2 * KEY_BYTES)
            lines[:, -1] = ord("\n")
            out.write(lines.tobytes())


def read_keys(path: Path, limit: int) -> NDArray[np.uint8]:
    """The keys of spu's output CSV (its result, from the peer's computation too), checked:
    the header, 32 hex digits a line (optionally quoted), at most `limit` lines. Lines of
    one width are decoded in numpy a block at a time; anything else line by line."""
    with path.open("rb") as data:
        header = data.readline().decode("ascii", errors="replace").strip().strip('"')
        if header != COLUMN:
            raise ProtocolError(f"rr22 result {path.name}: header {header!r}, expected {COLUMN!r}")
        first = data.readline()
        data.seek(-len(first), 1)
        quoted = first.startswith(b'"')
        width = _LINE + 2 * quoted
        if len(first) != width or not first.endswith(b"\n"):
            return _read_lines(path, limit)
        parts = []
        line = 2
        while block := data.read(width * _BLOCK):
            if len(block) % width:
                return _read_lines(path, limit)
            rows = np.frombuffer(block, dtype=np.uint8).reshape(-1, width)
            if line - 2 + len(rows) > limit:
                _fail(path, limit + 2, "more rows than the smaller set")
            decoded = _decode_rows(rows, quoted)
            if decoded is None:
                return _read_lines(path, limit)  # names the line and what is wrong with it
            parts.append(decoded)
            line += len(rows)
    return np.concatenate(parts) if parts else np.zeros((0, KEY_BYTES), dtype=np.uint8)


def _decode_rows(rows: NDArray[np.uint8], quoted: bool) -> NDArray[np.uint8] | None:
    """Keys of lines all `width` bytes wide, or None if any line is not a plain key."""
    digits = rows[:, 1:-2] if quoted else rows[:, :-1]
    framed = rows[:, -1] == ord("\n")
    if quoted:
        framed &= (rows[:, 0] == ord('"')) & (rows[:, -2] == ord('"'))
    values = _NIBBLE[digits]
    if not framed.all() or (values == 255).any():
        return None
    return ((values[:, 0::2] << 4) | values[:, 1::2]).astype(np.uint8, copy=False)


def _fail(path: Path, line: int, why: str) -> NoReturn:
    raise ProtocolError(f"rr22 result {path.name}: line {line} is {why}")


def _read_lines(path: Path, limit: int) -> NDArray[np.uint8]:
    """The slow path of `read_keys`: each line on its own (e.g. CRLF line ends)."""
    with path.open(encoding="ascii", errors="replace") as lines:
        lines.readline()  # the header, checked by the caller
        found = bytearray()
        for n, line in enumerate(lines, start=2):
            text = line.strip().strip('"')
            if n - 1 > limit:
                _fail(path, n, "more rows than the smaller set")
            if len(text) != 2 * KEY_BYTES:
                _fail(path, n, "not a 16-byte key")
            try:
                found += bytes.fromhex(text)
            except ValueError:
                _fail(path, n, "not hex")
    return np.frombuffer(bytes(found), dtype=np.uint8).reshape(-1, KEY_BYTES)


def sorted_keys(keys: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Keys in bytewise order: both parties list the pairwise intersection this way.

    Sorted on the first 8 bytes as one big-endian word (its order is the bytewise one),
    a quarter of the time of a 16-column lexsort; only when two keys share those 8 bytes
    (~2^-40 at 10^6 keys) do the last 8 decide."""
    if len(keys) == 0:
        return keys
    words = np.ascontiguousarray(keys[:, :KEY_BYTES]).view(">u8").astype(np.uint64)
    high = np.ascontiguousarray(words[:, 0])
    order = np.argsort(high)
    ranked = high[order]
    if (ranked[1:] == ranked[:-1]).any():
        order = np.lexsort((np.ascontiguousarray(words[:, 1]), high))
    return np.ascontiguousarray(keys[order])
