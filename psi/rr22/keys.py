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

import numpy as np
from numpy.typing import NDArray

from psi.ids import IdSource
from psi.matching import KEY_BYTES
from vfl.errors import ProtocolError

_DOMAIN = b"vfl/rr22/id\x00"
COLUMN = "id"


def id_keys(source: IdSource) -> NDArray[np.uint8]:
    """One key per ID of `source`, in its order."""
    parts = []
    for chunk in source.chunks():
        digests = b"".join(hashlib.sha256(_DOMAIN + i.encode()).digest()[:KEY_BYTES] for i in chunk)
        parts.append(np.frombuffer(digests, dtype=np.uint8).reshape(-1, KEY_BYTES))
    return np.concatenate(parts) if parts else np.zeros((0, KEY_BYTES), dtype=np.uint8)


def write_keys(path: Path, keys: NDArray[np.uint8]) -> None:
    with path.open("w", encoding="ascii") as out:
        out.write(COLUMN + "\n")
        for start in range(0, len(keys), 1 << 16):
            block = keys[start : start + (1 << 16)]
            out.write("".join(row.tobytes().hex() + "\n" for row in block))


def read_keys(path: Path, limit: int) -> NDArray[np.uint8]:
    """The keys of spu's output CSV (its result, from the peer's computation too), checked:
    the header, 32 hex digits a line, at most `limit` lines."""
    with path.open(encoding="ascii", errors="replace") as lines:
        header = lines.readline().strip().strip('"')
        if header != COLUMN:
            raise ProtocolError(f"rr22 result {path.name}: header {header!r}, expected {COLUMN!r}")
        found = bytearray()
        for n, line in enumerate(lines, start=2):
            text = line.strip().strip('"')
            if len(text) != 2 * KEY_BYTES or n - 1 > limit:
                why = "more rows than the smaller set" if n - 1 > limit else "not a 16-byte key"
                raise ProtocolError(f"rr22 result {path.name}: line {n} is {why}")
            try:
                found += bytes.fromhex(text)
            except ValueError:
                raise ProtocolError(f"rr22 result {path.name}: line {n} is not hex") from None
    return np.frombuffer(bytes(found), dtype=np.uint8).reshape(-1, KEY_BYTES)


def sorted_keys(keys: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Keys in bytewise order: both parties list the pairwise intersection this way."""
    if len(keys) == 0:
        return keys
    order = np.lexsort(keys.T[::-1])
    return np.ascontiguousarray(keys[order])
