"""L's end of the Paillier exchange with one feature holder: holds V = W − acc.

L computes on F's ciphertexts with short fixed-point scalars only, masks every result with
uniform noise in Z_n (OU: statistical masks over the packed value) before F decrypts it,
and updates V by SGD (with momentum on its own share of the velocity, share_momentum.py)
with the masked gradient.
Masks, noise and re-randomisation obfuscators are derived from L's party secret and the
batch scope (side_randomness.py), so a restarted label holder re-sends what it sent and
removes from F's journaled replies exactly the masks that are in them.
"""

from __future__ import annotations

import numpy as np
import torch
from gmpy2 import mpz
from numpy.typing import NDArray
from torch import nn

from vfl.algorithms.split.initial_weights import label_half
from vfl.algorithms.split.messages import InteractiveShape
from vfl.algorithms.split.paillier.layouts import DELTA_BITS, Layouts
from vfl.algorithms.split.paillier.messages import (
    EncryptedActivations,
    EncryptedBackwardInputs,
    EncryptedGradients,
    InitialShare,
    InteractiveWidth,
    MaskedProduct,
    MaskedWeightGradient,
    OuKey,
    PaillierKey,
    UnmaskedProduct,
)
from vfl.algorithms.split.paillier.share_momentum import ShareMomentum
from vfl.algorithms.split.paillier.shares import (
    Shares,
    check_wide,
    encode_exact,
    from_tensor,
    sgd_step,
    to_tensor,
    unpack_signed,
)
from vfl.algorithms.split.paillier.side_randomness import SideRandomness, next_batch_scope
from vfl.config.he_scheme import HeScheme
from vfl.crypto.engine import Obfuscation, PaillierEngine, StreamEngine
from vfl.crypto.fixed_point import encode
from vfl.crypto.keys import MIN_KEY_BITS, PublicKey
from vfl.crypto.ou import OuPublicKey
from vfl.crypto.ou_engine import OuEngine
from vfl.crypto.phase_clock import PhaseClock
from vfl.crypto.wire import from_wire, plain_from_bytes, to_wire
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import CryptoError, ProtocolError
from vfl.privacy.label_dp import LabelDP
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import PartySecret


class PaillierLabelSide(nn.Module):
    """L's end with one feature holder: holds V, its share of W = V + acc (buffer `v_fixed`)."""

    def __init__(
        self,
        peer: str,
        d: int,
        u: int,
        fan_in: int,
        *,
        precision_bits: int,
        packing: bool,
        workers: int,
        learning_rate: float,
        input_grad: bool,
        label_dp: LabelDP | None,
        batch_size: int,
        min_key_bits: int = MIN_KEY_BITS,
        momentum: ShareMomentum | None = None,
        scheme: HeScheme = HeScheme.PAILLIER,
    ) -> None:
        """`min_key_bits`: the smallest peer key accepted; the label holder passes the
        spec's `train.key_bits` or its policy's floor, whichever is larger, and the spec
        validator holds `key_bits` to the scheme's minimum (3072 for OU)."""
        super().__init__()
        self.scheme = scheme
        self.peer = peer
        self.fan_in = fan_in
        self.batch_size = batch_size
        self.min_key_bits = min_key_bits
        self.f = precision_bits
        self.packing = packing
        self.workers = workers
        self.lr = learning_rate
        self.input_grad = input_grad
        self.label_dp = label_dp
        self.d, self.u = d, u
        # V until initial_share() (train) or load_state_dict() (evaluate) sets it
        self.register_buffer("v_fixed", to_tensor(np.zeros((d, u), dtype=object)))
        self.momentum = momentum or ShareMomentum()
        if self.momentum.active:  # training state only: checkpoints, not the published model
            zeros = to_tensor(np.zeros((d, u), dtype=object))
            self.register_buffer("velocity_fixed", zeros, persistent=False)
        self._engine: StreamEngine | None = None
        self._lay: Layouts | None = None
        self._z: torch.Tensor | None = None
        self._inputs: tuple[list[mpz], list[mpz]] | None = None
        self._rand: SideRandomness | None = None
        self._secret: PartySecret | None = None
        self.clock = PhaseClock()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.pool.close()

    def _v(self) -> Shares:
        return from_tensor(self.get_buffer("v_fixed"), f"{self.peer}'s share V")

    def velocity_state(self) -> torch.Tensor | None:
        """L's share of the velocity for the epoch checkpoint (None without momentum)."""
        return self.get_buffer("velocity_fixed").clone() if self.momentum.active else None

    def load_velocity(self, saved: torch.Tensor) -> None:
        what = f"checkpoint entry velocity.{self.peer}"
        self.get_buffer("velocity_fixed").copy_(to_tensor(from_tensor(saved, what)))

    def _velocity(self) -> Shares | None:
        if not self.momentum.active:
            return None
        return from_tensor(self.get_buffer("velocity_fixed"), f"{self.peer}'s velocity share")

    def _set_v(self, v: Shares) -> None:
        self.get_buffer("v_fixed").copy_(to_tensor(check_wide(v, f"{self.peer}'s share V")))

    def initial_share(self, ctx: PartyContext) -> None:
        """V₀ = W_L + M, M = W_F − acc₀ from F (messages.InitialShare): V₀ + acc₀ = W₀.

        Called at the start of every training phase, before a checkpoint (if any)
        overwrites V: the exchange is always repeated, with the same bytes."""
        ctx.send(self.peer, InteractiveShape(self.u, self.fan_in))
        msg = ctx.recv(self.peer, InitialShare)
        where = f"split_paillier.InitialShare from {self.peer}"
        share = unpack_signed(msg.values, (self.d, self.u), where)
        half = label_half(PartySecret.of(ctx), self.peer, self.d, self.u, self.fan_in)
        self._set_v(encode_exact(half.numpy(), self.f) + share)
        if self.momentum.active:
            self.get_buffer("velocity_fixed").zero_()

    def start(self, ctx: PartyContext) -> None:
        """Receive pk_F, send u. `ctx` is a fixed scope of the phase, not a batch's: a party
        restarted mid-phase repeats the handshake under the same sequence numbers."""
        self._secret = PartySecret.of(ctx)
        self._rand = SideRandomness(self._secret, "L", self.peer)
        if self._engine is not None:
            self._engine.pool.close()
        self._engine = self._peer_engine(ctx)
        capacity = self._engine.capacity_bits
        self._lay = Layouts.build(capacity, self.f, self.d, self.u, self.packing, self.batch_size)
        ctx.send(self.peer, InteractiveWidth(self.u))

    def _peer_engine(self, ctx: PartyContext) -> StreamEngine:
        """F's public key, checked, in an engine that re-randomises with owner-hiding
        obfuscators: F knows the factorisation, so short exponents would not hide from it
        what L's ciphertexts carry in their randomness (docs/paillier.md,
        vfl/crypto/owner_hiding.py; OU: H^r with r of bits(n) + 40)."""
        assert self._rand is not None
        floor = self.min_key_bits
        key: PublicKey | OuPublicKey
        if self.scheme is HeScheme.OU:
            ou_msg = ctx.recv(self.peer, OuKey)
            where = f"split_paillier.OuKey from {self.peer}"
            key = OuPublicKey.from_bytes(ou_msg.n, ou_msg.g, ou_msg.h, ou_msg.key_bits, where)
        else:
            msg = ctx.recv(self.peer, PaillierKey)
            where = f"split_paillier.PaillierKey from {self.peer}"
            key = PublicKey.from_bytes(msg.n, msg.hs, where)
        if key.bits < floor:
            raise ProtocolError(
                f"{where}: a {key.bits}-bit modulus, this party accepts {floor} bits or "
                f"more for he_scheme '{self.scheme}'; the feature holder must use "
                f"train.key_bits >= {self.scheme.min_key_bits(MIN_KEY_BITS)}"
            )
        pool = WorkerPool(self.workers)
        if isinstance(key, OuPublicKey):
            return OuEngine(key, pool, None, Obfuscation.OWNER_HIDING)
        bases = self._rand.stream("bases", "job")
        return PaillierEngine(key, pool, None, Obfuscation.OWNER_HIDING, bases)

    def _started(self) -> tuple[StreamEngine, Layouts, SideRandomness]:
        assert self._engine is not None and self._lay is not None and self._rand is not None, (
            "start() first"
        )
        return self._engine, self._lay, self._rand

    def forward_batch(self, ctx: PartyContext, rows: int, training: bool) -> torch.Tensor:
        engine, lay, rand = self._started()
        key, f, where = engine.key, self.f, f"from {self.peer}"
        obf = rand.obfuscators(ctx.scope)
        groups, n = lay.groups(rows), int(engine.key.n)
        msg = ctx.recv(self.peer, EncryptedActivations)
        clock = self.clock
        if tuple(msg.values.shape) != (rows, self.d):
            raise ProtocolError(
                f"split_paillier.EncryptedActivations {where}: shape {msg.values.shape}, "
                f"expected {(rows, self.d)}"
            )
        with clock("F1.parse"):
            cts = from_wire(key, msg.values, self.d * groups, "batch", lay.batch, where)
        if training:
            back = ctx.recv(self.peer, EncryptedBackwardInputs)
            with clock("F1b.parse"):
                self._inputs = (
                    from_wire(key, back.rows, rows * lay.row_chunks, "rows", lay.rows, where),
                    from_wire(key, back.acc, lay.acc_count, "acc", lay.acc, where),
                )
        v = self._v()
        terms = [
            [(k * groups + g, int(v[k, j])) for k in range(self.d)]
            for j in range(self.u)
            for g in range(groups)
        ]
        with clock("F2.products"):
            product = engine.linear(cts, terms)
        with clock("F2.mask"):
            draws = rand.stream("e1", ctx.scope)
            e1 = engine.hiding_masks(draws, len(terms), lay.batch.packed_bits)
            product = engine.add_plain(product, e1, obf)
            body = to_wire(key, product, (rows, self.u), "batch", lay.batch, 2 * f)
        ctx.send(self.peer, MaskedProduct(body))
        if training:  # B1/B4's masks, computed while F decrypts (idle cores in deployment)
            with clock("masks.prefill"):
                engine.prefill(obf, self.u * lay.row_chunks + self._b4_outputs(lay, rows))
        reply = ctx.recv(self.peer, UnmaskedProduct)
        with clock("F3.unpack"):
            values = plain_from_bytes(
                key, reply.values, len(terms), f"split_paillier.UnmaskedProduct {where}"
            )
            unmasked = [v - m for v, m in zip(values, e1, strict=True)]
            z = lay.unpack_batch(unmasked, rows, self.u, n, "z_F")
        zt = torch.from_numpy(z / float(2 ** (2 * f))).float()
        if training:
            self._z = zt.requires_grad_()
            return self._z
        return zt

    def backward_batch(self, ctx: PartyContext) -> None:
        assert self._z is not None and self._z.grad is not None and self._inputs is not None
        engine, lay, rand = self._started()
        key, f, n = engine.key, self.f, int(engine.key.n)
        obf = rand.obfuscators(ctx.scope)
        delta = encode(self._z.grad.double().numpy(), f, DELTA_BITS, "cut-layer gradient δ")
        rows_ct, acc_ct = self._inputs
        rows = delta.shape[0]
        rc = lay.row_chunks
        w_terms = [
            [(i * rc + c, int(delta[i, j])) for i in range(rows)]
            for j in range(self.u)
            for c in range(rc)
        ]
        with self.clock("B1.products"):
            w_grad = engine.linear(rows_ct, w_terms)
        with self.clock("B1.mask"):
            draws = rand.stream("e2", ctx.scope)
            e2 = engine.hiding_masks(draws, len(w_terms), lay.rows.packed_bits)
            w_grad = engine.add_plain(w_grad, e2, obf)
        in_grad = (
            self._input_gradient(ctx.scope, engine, lay, self._released(ctx, delta), acc_ct)
            if self.input_grad
            else []
        )
        ctx.send(
            self.peer,
            EncryptedGradients(
                to_wire(key, w_grad, (self.d, self.u), "rows", lay.rows, 2 * f),
                to_wire(key, in_grad, (rows, self.d), "acc", lay.acc, 2 * f),
            ),
        )
        following = next_batch_scope(ctx.scope)
        if following:  # the next batch's F2 masks, likewise
            with self.clock("masks.prefill"):
                engine.prefill(rand.obfuscators(following), self.u * lay.groups(rows))
        reply = ctx.recv(self.peer, MaskedWeightGradient)
        where = f"split_paillier.MaskedWeightGradient from {self.peer}"
        with self.clock("B2.unpack"):
            values = plain_from_bytes(key, reply.values, len(w_terms), where)
            grad = np.zeros((self.d, self.u), dtype=object)
            sr = lay.rows.slots
            for j in range(self.u):
                for c in range(rc):
                    idx = j * rc + c
                    count = min(sr, self.d - c * sr)
                    grad[c * sr : c * sr + count, j] = lay.rows.unpack(
                        values[idx] - e2[idx], n, count, where
                    )
        velocity, step = self.momentum.direction(self._velocity(), grad, "velocity of V")
        if velocity is not None:
            self.get_buffer("velocity_fixed").copy_(to_tensor(velocity))
        self._set_v(self._v() - sgd_step(step, self.lr, f))  # 2^2f → η·(g + ε) (+ μ·v) at 2^f
        self._z, self._inputs = None, None

    def _released(self, ctx: PartyContext, delta: NDArray[np.int64]) -> NDArray[np.int64]:
        """The δ B4 multiplies: with label-DP, δ̃ (the same for every feature holder of the
        batch, docs/privacy.md); B1, W's own gradient aᵀδ, always uses the exact δ."""
        if self.label_dp is None:
            return delta
        assert self._z is not None and self._z.grad is not None
        assert self._secret is not None, "start() first"
        noisy = self.label_dp.release(self._z.grad.double().numpy(), self._secret, ctx.scope)
        if np.abs(noisy).max(initial=0.0) >= 2**DELTA_BITS:  # noise std is 2·clip·z / rows
            raise CryptoError(
                f"label-DP cut-layer gradient δ̃: noise beyond the fixed-point range "
                f"2^{DELTA_BITS} in a batch of {noisy.shape[0]} rows; raise "
                f"train.batch_size or privacy.label_dp_epsilon"
            )
        return encode(noisy, self.f, DELTA_BITS, "label-DP cut-layer gradient δ̃")

    def _b4_outputs(self, lay: Layouts, rows: int) -> int:
        return lay.acc_outputs(rows) if self.input_grad else 0

    def _input_gradient(
        self,
        scope: str,
        engine: StreamEngine,
        lay: Layouts,
        delta: NDArray[np.int64],
        acc_ct: list[mpz],
    ) -> list[mpz]:
        """B4: [[δ·Wᵀ]] = δ·Vᵀ (plaintext) + Σ_j δ[i,j]·[[acc[:,j]]], p rows per ciphertext."""
        rows, cl, p, w = delta.shape[0], lay.acc_chunk, lay.acc_rows, lay.acc.width
        plain_part = delta.astype(object) @ self._v().T
        terms, plains = [], []
        for r in range(-(-rows // p)):
            for c in range(lay.acc_chunks):
                width = min(cl, self.d - c * cl)
                group = range(r * p, min(r * p + p, rows))
                terms.append(
                    [
                        (lay.acc_index(t, j, c), int(delta[i, j]))
                        for t, i in enumerate(group)
                        for j in range(self.u)
                    ]
                )
                plains.append(
                    sum(
                        int(plain_part[i, c * cl + k]) << ((t * cl + k) * w)
                        for t, i in enumerate(group)
                        for k in range(width)
                    )
                )
        with self.clock("B4.products"):
            product = engine.linear(acc_ct, terms)
        with self.clock("B4.mask"):
            return engine.add_plain(product, plains, self._started()[2].obfuscators(scope))
