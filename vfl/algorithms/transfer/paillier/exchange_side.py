"""What the source and the target sides share: keys, engines and the three rounds.

The exchange is symmetric: each side encrypts its own terms under its own key (round 1),
computes its cross gradient on the peer's ciphertexts, masks and re-randomises it
(round 2), decrypts the peer's masked cross gradient for it (round 3) and removes its own
mask. `SourceSide` and `TargetSide` say which terms and which scalars; this class says
how they travel. Every random value that reaches a message comes from the party's own
secret (vfl/runtime/party_secret.py) and the batch's message scope, never from the job
seed, so a replayed batch re-sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from gmpy2 import mpz
from numpy.typing import NDArray

from vfl.algorithms.split.paillier.side_randomness import next_batch_scope
from vfl.algorithms.transfer.paillier.bounds import check_rows, layout
from vfl.algorithms.transfer.paillier.messages import TransferKey
from vfl.crypto.engine import Obfuscation, PaillierEngine
from vfl.crypto.fixed_point import encode
from vfl.crypto.keys import MIN_KEY_BITS, KeyPair, PublicKey
from vfl.crypto.packing import SlotLayout
from vfl.crypto.phase_clock import PhaseClock
from vfl.crypto.wire import from_wire, plain_from_bytes, plain_to_bytes, to_wire
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import ProtocolError
from vfl.protocol.types import EncryptedTensor
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import DerivedRandomness, PartySecret

Ints = NDArray[np.object_]
"""Fixed-point integers (Python ints in an object array): exact, any width."""
_ROWS = "rows"
_MAX_WIDTH = 4096


@dataclass(frozen=True)
class HeadGradient:
    """∂L/∂W and ∂L/∂b of a side's own head u = h·W + b, summed over the batch.

    `weight` is p × d (input-major: a torch `nn.Linear`'s weight.grad is its transpose),
    `bias` has d entries. L2 terms are the caller's (they are local)."""

    weight: NDArray[np.float64]
    bias: NDArray[np.float64]


class _TermsMessage(Protocol):
    @property
    def rows(self) -> EncryptedTensor: ...
    @property
    def square(self) -> EncryptedTensor: ...


class _MaskedMessage(Protocol):
    @property
    def values(self) -> EncryptedTensor: ...


class _OpenedMessage(Protocol):
    @property
    def count(self) -> int: ...
    @property
    def values(self) -> bytes: ...


@dataclass(frozen=True)
class Wire:
    """The message classes of one side: what it sends and what it receives, per round."""

    make_terms: Callable[[EncryptedTensor, EncryptedTensor], object]
    peer_terms: type[_TermsMessage]
    make_masked: Callable[[EncryptedTensor], object]
    peer_masked: type[_MaskedMessage]
    make_opened: Callable[[int, bytes], object]
    opened_for_me: type[_OpenedMessage]


@dataclass(frozen=True)
class _Peer:
    key: PublicKey
    engine: PaillierEngine
    """Under the peer's key: products and re-randomisation (owner-hiding obfuscators,
    vfl/crypto/owner_hiding.py)."""


class ExchangeSide:
    """One side of the exchange; subclasses fix the terms, the scalars and the messages."""

    role = ""

    def __init__(
        self,
        peer: str,
        keys: KeyPair,
        *,
        width: int,
        max_rows: int,
        alignment_weight: float,
        precision_bits: int = 16,
        workers: int = 1,
        min_key_bits: int = MIN_KEY_BITS,
    ) -> None:
        if not 1 <= width <= _MAX_WIDTH:
            raise ProtocolError(f"representation width {width} outside 1..{_MAX_WIDTH}")
        self.peer = peer
        self.width = width
        self.max_rows = max_rows
        self.gamma = float(alignment_weight)
        self.f = precision_bits
        self.min_key_bits = min_key_bits
        self._keys = keys
        self._pool = WorkerPool(workers)
        self._own = PaillierEngine.owner(keys, self._pool)
        self._peer: _Peer | None = None
        self._secret: PartySecret | None = None
        self.clock = PhaseClock()

    def close(self) -> None:
        self._pool.close()

    # -- handshake ---------------------------------------------------------------------
    def start(self, ctx: PartyContext) -> None:
        """Exchange public keys and check the width. `ctx` is a fixed scope of the phase
        (not a batch's), so a restarted party repeats it under the same sequence numbers."""
        self._secret = PartySecret.of(ctx)
        key = self._keys.public
        ctx.send(self.peer, TransferKey(_b(key.n), _b(key.hs), self.width))
        msg = ctx.recv(self.peer, TransferKey)
        where = f"transfer_paillier.TransferKey from {self.peer}"
        if msg.width != self.width:
            raise ProtocolError(
                f"{where}: representation width {msg.width}, this party's is {self.width}; "
                "both sides must run the same model.representation_width"
            )
        peer_key = PublicKey.from_bytes(msg.n, msg.hs, where)
        if peer_key.bits < self.min_key_bits:
            raise ProtocolError(
                f"{where}: a {peer_key.bits}-bit modulus, this party accepts "
                f"{self.min_key_bits} bits or more; the peer must use train.key_bits >= 2048"
            )
        if peer_key.n == key.n:
            raise ProtocolError(f"{where}: the peer sent this party's own key back")
        # Owner-hiding obfuscators for what goes back to the key owner, who knows its
        # factorisation; their secret bases come from this party's secret.
        bases = self._secret.derive(f"transfer_paillier/{self.role}/{self.peer}/bases", "job")
        engine = PaillierEngine(peer_key, self._pool, None, Obfuscation.OWNER_HIDING, bases)
        self._peer = _Peer(peer_key, engine)

    def _started(self) -> tuple[_Peer, PartySecret]:
        if self._peer is None or self._secret is None:
            raise ProtocolError(f"transfer_paillier {self.role}: start() before exchange()")
        return self._peer, self._secret

    def _stream(self, what: str, scope: str) -> DerivedRandomness:
        _, secret = self._started()
        return secret.derive(f"transfer_paillier/{self.role}/{self.peer}/{what}", scope)

    def own_layout(self) -> SlotLayout:
        return layout(self._keys.public.bits, self.f, self.max_rows, self.width)

    def peer_layout(self) -> SlotLayout:
        peer, _ = self._started()
        return layout(peer.key.bits, self.f, self.max_rows, self.width)

    def _check_rows(self, rows: int, head_inputs: int) -> None:
        check_rows(rows, head_inputs, self.max_rows, f"transfer_paillier {self.role}")

    # -- round 1: own terms under own key ----------------------------------------------
    def _encrypt_rows(self, values: Ints, obf: DerivedRandomness) -> EncryptedTensor:
        """[[values]] under this side's key, each row packed in chunks of the layout, or
        (when a row fits ⌊slots/d⌋ ≥ 2 times) in one plaintext with its values `per` slots
        apart: value j in slot j·per, the slots between them zero (see `_masked_product`)."""
        lay, key = self.own_layout(), self._keys.public
        per = outputs_per_ciphertext(self.width, lay)
        with self.clock("encrypt"):
            if per > 1:
                plains = [lay.pack(_spread(row, per)) for row in values]
            else:
                plains = [lay.pack(list(c)) for row in values for c in _chunks(row, lay)]
            cts = self._own.encrypt(plains, obf)
        return to_wire(key, cts, tuple(values.shape), _ROWS, lay, self.f)

    def _parse_rows(self, t: EncryptedTensor, rows: int, what: str) -> list[mpz]:
        peer, _ = self._started()
        lay = self.peer_layout()
        where = f"transfer_paillier.{what} from {self.peer}"
        if tuple(t.shape) != (rows, self.width):
            raise ProtocolError(f"{where}: shape {tuple(t.shape)}, expected {(rows, self.width)}")
        return from_wire(peer.key, t, rows * _chunk_count(self.width, lay), _ROWS, lay, where)

    # -- round 2: the cross gradient, masked, under the peer's key -----------------------
    def _masked_product(
        self, bases: list[mpz], scalars: Ints, ctx: PartyContext
    ) -> tuple[EncryptedTensor, list[int]]:
        """[[scalars·bases + R]] for bases = peer ciphertexts of (t rows × d), scalars
        (outputs × t): output (k, chunk c) = Π_t base[t, c]^scalars[k, t]. When a row
        takes at most half a plaintext, its owner spread it `per` slots apart
        (`_encrypt_rows`), and `per` consecutive outputs are interleaved into one
        ciphertext, output j of a run shifted by j slots (one powmod by 2^slot_bits each):
        fewer ciphertexts, so fewer masks, r^n and decryptions. Each ciphertext is masked
        with its own R uniform in Z_n and re-randomised with its own r^n: · (1 + n·R)·r^n.
        Returns the wire tensor and the masks R (to remove from the opened values)."""
        peer, _ = self._started()
        lay = self.peer_layout()
        chunks = _chunk_count(self.width, lay)
        outputs = scalars.shape[0]
        terms = [
            [(t * chunks + c, int(e)) for t, e in enumerate(scalars[k]) if e]
            for k in range(outputs)
            for c in range(chunks)
        ]
        with self.clock("products"):
            product = peer.engine.linear(bases, terms)
            per = outputs_per_ciphertext(self.width, lay)
            if per > 1:
                product = peer.engine.pack_shifted(product, per, lay.width)
        with self.clock("mask"):
            draws = self._stream("mask", ctx.scope)
            n = peer.key.n
            masks = [draws.below(i, int(n)) for i in range(len(product))]
            masked = peer.engine.add_plain(product, masks, self._stream("rerandomise", ctx.scope))
        return to_wire(peer.key, masked, (outputs, self.width), _ROWS, lay, 2 * self.f), masks

    # -- round 3: open the peer's, then unmask our own ---------------------------------
    def _open_for_peer(self, t: EncryptedTensor, what: str) -> tuple[int, bytes]:
        """Decrypt the peer's masked cross gradient (uniform residues) for it."""
        lay, key = self.own_layout(), self._keys.public
        where = f"transfer_paillier.{what} from {self.peer}"
        outputs = t.shape[0] if len(t.shape) == 2 else -1
        if not 1 <= outputs <= 1 << 16 or tuple(t.shape) != (outputs, self.width):
            raise ProtocolError(f"{where}: shape {tuple(t.shape)} is not (outputs, {self.width})")
        cts = from_wire(key, t, masked_count(outputs, self.width, lay), _ROWS, lay, where)
        with self.clock("decrypt"):
            plains = self._own.decrypt(cts)
        return len(plains), plain_to_bytes(key, plains)

    def _unmask(
        self, data: bytes, masks: list[int], outputs: int, what: str
    ) -> NDArray[np.float64]:
        """X (outputs × d, real values) from the opened residues X + R mod n."""
        peer, _ = self._started()
        where = f"transfer_paillier.{what} from {self.peer}"
        with self.clock("unpack"):
            values = plain_from_bytes(peer.key, data, len(masks), where)
            lay = self.peer_layout()
            return unmask_rows(
                values, masks, int(peer.key.n), lay, outputs, self.width, self.f, where
            )

    def _rounds(
        self, ctx: PartyContext, own: tuple[Ints, Ints], scalars: Ints, rows: int, wire: Wire
    ) -> NDArray[np.float64]:
        """Rounds 1-3 for one batch; the cross gradient X (outputs × d) of this side."""
        obf = self._stream("obfuscators", ctx.scope)
        first, second = (self._encrypt_rows(v, obf) for v in own)
        ctx.send(self.peer, wire.make_terms(first, second))
        peer, _ = self._started()
        count = masked_count(len(scalars), self.width, self.peer_layout())
        with self.clock("mask"):  # this batch's r^n, in the workers while the peer encrypts
            peer.engine.prefill(self._stream("rerandomise", ctx.scope), count)
        theirs = ctx.recv(self.peer, wire.peer_terms)
        name = wire.peer_terms.__name__
        bases = self._parse_rows(theirs.rows, rows, f"{name}.rows")
        bases += self._parse_rows(theirs.square, self.width, f"{name}.square")
        body, masks = self._masked_product(bases, scalars, ctx)
        ctx.send(self.peer, wire.make_masked(body))
        their_masked = ctx.recv(self.peer, wire.peer_masked)
        count, opened = self._open_for_peer(their_masked.values, wire.peer_masked.__name__)
        ctx.send(self.peer, wire.make_opened(count, opened))
        mine = ctx.recv(self.peer, wire.opened_for_me)
        what = wire.opened_for_me.__name__
        if mine.count != len(masks):
            raise ProtocolError(
                f"transfer_paillier.{what} from {self.peer}: {mine.count} values, "
                f"expected {len(masks)}"
            )
        following = next_batch_scope(ctx.scope)
        if following:  # the next batch's encryptions, while the train program works
            with self.clock("encrypt"):
                own_chunks = _chunk_count(self.width, self.own_layout())
                self._own.prefill(
                    self._stream("obfuscators", following), (rows + self.width) * own_chunks
                )
        return self._unmask(mine.values, masks, scalars.shape[0], what)

    # -- encoding -------------------------------------------------------------------------
    def encode_fixed(self, values: NDArray[np.floating], bound_bits: int, what: str) -> Ints:
        """round(values·2^f) as exact integers; CryptoError past 2^bound_bits."""
        return encode(values, self.f, bound_bits, f"transfer_paillier {self.role}: {what}").astype(
            object
        )


def unmask_rows(
    values: list[int],
    masks: list[int],
    n: int,
    lay: SlotLayout,
    outputs: int,
    width: int,
    f: int,
    where: str,
) -> NDArray[np.float64]:
    """outputs × width real values from residues X + R mod n, packed by rows in chunks,
    or `per` rows interleaved per residue (row j of a run in slots j, j + per, …) when
    they fit: `outputs_per_ciphertext`."""
    chunks = _chunk_count(width, lay)
    out = np.zeros((outputs, width))
    per = outputs_per_ciphertext(width, lay)
    if per > 1:
        for idx, first in enumerate(range(0, outputs, per)):
            rows = min(per, outputs - first)
            digits = lay.unpack((values[idx] - masks[idx]) % n, n, width * per, where)
            grid = np.array(digits, dtype=np.float64).reshape(width, per)
            out[first : first + rows] = grid.T[:rows]
        return out / float(2 ** (2 * f))
    for k in range(outputs):
        for c in range(chunks):
            idx = k * chunks + c
            count = min(lay.slots, width - c * lay.slots)
            out[k, c * lay.slots : c * lay.slots + count] = lay.unpack(
                (values[idx] - masks[idx]) % n, n, count, where
            )
    return out / float(2 ** (2 * f))


def outputs_per_ciphertext(width: int, lay: SlotLayout) -> int:
    """How many width-d result rows share one masked ciphertext (and how many slots apart
    a row's own values are encrypted): ⌊slots/d⌋, or 1 when a row takes one plaintext or
    more. Fewer ciphertexts: fewer r^n and decryptions."""
    return max(lay.slots // width, 1)


def masked_count(outputs: int, width: int, lay: SlotLayout) -> int:
    """Ciphertexts of a masked cross gradient of `outputs` rows of width d."""
    per = outputs_per_ciphertext(width, lay)
    return -(-outputs // per) if per > 1 else outputs * _chunk_count(width, lay)


def _spread(row: Ints, per: int) -> list[int]:
    """The row's values `per` slots apart, zeros between: slot j·per holds value j."""
    out = [0] * ((len(row) - 1) * per + 1)
    out[::per] = [int(v) for v in row]
    return out


def _chunks(row: Ints, lay: SlotLayout) -> list[Ints]:
    return [row[c : c + lay.slots] for c in range(0, len(row), lay.slots)]


def _chunk_count(width: int, lay: SlotLayout) -> int:
    return -(-width // lay.slots)


def with_bias(h: NDArray[np.float64]) -> NDArray[np.float64]:
    """h̃ = [h, 1]: the bias is a weight on a constant input."""
    return np.hstack([h, np.ones((h.shape[0], 1))])


def _b(x: object) -> bytes:
    v = int(x)  # type: ignore[call-overload]
    out: bytes = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return out
