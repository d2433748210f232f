"""One RSA-PSI pairing, from either side: the signer's round and the client's round.

Both programs (label holder and feature holder) use these; which side runs which is
decided by the exchanged set sizes (see messages.py). The sizes are also promises: a
signer signs at most as many blinded values as its client declared, so a client cannot
announce a small set (to be the client) and then have a dictionary of guesses signed to
test against the signer's tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
from numpy.typing import NDArray

from psi.checks import require_distinct, require_unique_ids
from psi.chunks import MAX_ROWS, recv_rows, send_rows
from psi.ids import IdSource
from psi.matching import match
from psi.parallel import GroupPool
from psi.replay import PsiRandomness
from psi.rsa.keys import TAG_BYTES, PrivateKey, PublicKey, check_public
from psi.rsa.messages import Blinded, PublicKeyMsg, SetSize, Signed, Tags
from psi.rsa.work import blind_task, own_tags, sign_blinded, unblind_task
from vfl.config.job_spec import align_roles
from vfl.errors import DataValidationError, ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import DerivedRandomness

TASK = 512
"""IDs per worker task: a 2048-bit CRT signature takes ~0.65 ms."""


def _tasks(source: IdSource) -> Iterator[list[str]]:
    for chunk in source.chunks():
        for start in range(0, len(chunk), TASK):
            yield chunk[start : start + TASK]


def _rows(parts: Iterator[bytes], width: int) -> NDArray[np.uint8]:
    out = bytearray()
    for part in parts:
        out += part
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, width)


def recv_size(ctx: PartyContext, peer: str) -> int:
    """The peer's declared set size: who signs, and how many values its signer may sign."""
    rows = ctx.recv(peer, SetSize).rows
    if not 0 <= rows <= MAX_ROWS:
        raise ProtocolError(f"rsa.SetSize from {peer}: {rows} rows; expected 0..{MAX_ROWS}")
    return rows


def signer_tags(pool: GroupPool, source: IdSource, key: PrivateKey) -> NDArray[np.uint8]:
    """The signer's own tags, in source order; duplicates in the source are an error."""
    tags = _rows(pool.map(partial(own_tags, key=key), _tasks(source)), TAG_BYTES)
    require_unique_ids(tags, source)
    return tags


def signer_round(
    ctx: PartyContext,
    peer: str,
    pool: GroupPool,
    key: PrivateKey,
    tags: NDArray[np.uint8],
    declared: int,
) -> None:
    """Sign the client's blinded values (at most the `declared` rows of its rsa.SetSize)
    and send this side's tags (already shuffled)."""
    size = key.public.size
    ctx.send(peer, PublicKeyMsg(key.public.modulus_bytes(), key.public.e))
    refusal = f"more than the {declared} IDs its rsa.SetSize declared; refusing to sign them"
    blinded = recv_rows(ctx, peer, Blinded, size, limit=declared, bound=refusal)
    chunks = (blinded[s : s + TASK].tobytes() for s in range(0, len(blinded), TASK))
    signed = _rows(pool.map(partial(sign_blinded, key=key), chunks), size)
    send_rows(ctx, peer, Signed, signed)
    send_rows(ctx, peer, Tags, tags)


def client_round(
    ctx: PartyContext,
    peer: str,
    pool: GroupPool,
    source: IdSource,
    rand: PsiRandomness,
    declared: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Returns (own positions, signer's shuffled positions) of shared rows and own count.

    `declared` is the size this side announced; sending more would be refused by the signer.
    """
    msg = ctx.recv(peer, PublicKeyMsg)
    where = f"rsa.PublicKey from {peer}"
    pub = check_public(msg.modulus, msg.exponent, where, align_roles(ctx.job).align.key_bits)
    size = pub.size
    blinded, inverses = bytearray(), bytearray()
    factors = rand.stream(f"blinding/{peer}")

    def blind_jobs() -> Iterator[tuple[list[str], PublicKey, DerivedRandomness, int]]:
        first = 0
        for ids in _tasks(source):
            yield ids, pub, factors, first
            first += len(ids)

    for b, inv in pool.map(blind_task, blind_jobs()):
        blinded += b
        inverses += inv
    rows = len(blinded) // size
    if rows > declared:
        raise DataValidationError(
            f"{source.name}: {rows} IDs read, but {declared} were counted and declared to "
            f"{peer}; the source changed while aligning (or was miscounted): run the job again"
        )
    send_rows(ctx, peer, Blinded, np.frombuffer(blinded, dtype=np.uint8).reshape(-1, size))
    del blinded
    signed = recv_rows(ctx, peer, Signed, size, limit=rows)
    if len(signed) != rows:
        raise ProtocolError(f"rsa.Signed from {peer}: {len(signed)} values for {rows} sent")
    theirs = recv_rows(ctx, peer, Tags, TAG_BYTES)
    require_distinct(theirs, f"rsa.Tags from {peer}")

    def jobs() -> Iterator[tuple[list[str], bytes, bytes, PublicKey]]:
        offset = 0
        for ids in _tasks(source):
            end = offset + len(ids) * size
            yield ids, signed.reshape(-1)[offset:end].tobytes(), bytes(inverses[offset:end]), pub
            offset = end

    mine = _rows(pool.map(unblind_task, jobs()), TAG_BYTES)
    require_unique_ids(mine, source)
    at_mine, at_theirs = match(mine, theirs)
    return at_mine, at_theirs, rows
