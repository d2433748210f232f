"""F's end of the Paillier exchange: owns the key pair and the accumulated noise acc.

F encrypts its cut-layer output, decrypts only masked residues and its own input gradient,
and adds its share a·acc (forward) and its gradient mask ε (backward) before anything goes
back to the label holder. Its key pair is kept for the phase (phase_keys.py) and every
random value it sends is derived from its party secret (side_randomness.py), so a restarted
feature holder re-sends exactly what it sent before.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from vfl.algorithms.split.initial_weights import feature_half
from vfl.algorithms.split.messages import InteractiveShape
from vfl.algorithms.split.paillier.layouts import A_BITS, Layouts, acc0_bits, eps_bits
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
from vfl.algorithms.split.paillier.phase_keys import KeyGen
from vfl.algorithms.split.paillier.share_momentum import ShareMomentum
from vfl.algorithms.split.paillier.shares import (
    Shares,
    check_wide,
    encode_exact,
    from_tensor,
    pack_signed,
    sgd_step,
    to_tensor,
    uniform_signed,
)
from vfl.algorithms.split.paillier.side_randomness import SideRandomness, next_batch_scope
from vfl.crypto.engine import PaillierEngine, StreamEngine
from vfl.crypto.fixed_point import encode
from vfl.crypto.keys import KeyPair
from vfl.crypto.ou import OuKeyPair
from vfl.crypto.ou_engine import OuEngine
from vfl.crypto.phase_clock import PhaseClock
from vfl.crypto.wire import from_wire, plain_to_bytes, to_wire
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.party_secret import DerivedRandomness, PartySecret

__all__ = ["KeyGen", "PaillierFeatureSide"]


class PaillierFeatureSide:
    """F's end: owns the key pair and its share acc of the interactive weights W = V + acc."""

    def __init__(
        self,
        label_holder: str,
        width: int,
        keys: KeyPair | OuKeyPair,
        *,
        precision_bits: int,
        packing: bool,
        workers: int,
        learning_rate: float,
        input_grad: bool,
        batch_size: int,
        momentum: ShareMomentum | None = None,
    ) -> None:
        self.label_holder = label_holder
        self.batch_size = batch_size
        self.width = width
        self.u = 0
        self.f = precision_bits
        self.lr = learning_rate
        self.input_grad = input_grad
        self.acc: Shares | None = None
        self.momentum = momentum or ShareMomentum()
        self.velocity: Shares | None = None
        """F's share of the velocity: that of its masks ε (share_momentum.py)."""
        self._keys = keys
        self._pool = WorkerPool(workers)
        self._engine: StreamEngine = (
            OuEngine.owner(keys, self._pool)
            if isinstance(keys, OuKeyPair)
            else PaillierEngine.owner(keys, self._pool)
        )
        self.packing = packing
        self._lay: Layouts | None = None
        self._a: NDArray[np.int64] | None = None
        self._rand: SideRandomness | None = None
        self.clock = PhaseClock()

    def state(self) -> dict[str, torch.Tensor]:
        out = {} if self.acc is None else {"acc": to_tensor(self.acc)}
        if self.velocity is not None:
            out["velocity"] = to_tensor(self.velocity)
        return out

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        if "acc" in state:
            self.acc = from_tensor(state["acc"], "checkpoint entry side.acc")
        if "velocity" in state:
            self.velocity = from_tensor(state["velocity"], "checkpoint entry side.velocity")

    @property
    def lay(self) -> Layouts:
        assert self._lay is not None, "handshake first"
        return self._lay

    def start(self, ctx: PartyContext) -> None:
        """Send pk_F, learn u. `ctx` is a fixed scope of the phase, not a batch's: a party
        restarted mid-phase repeats the handshake under the same sequence numbers."""
        self._rand = SideRandomness(PartySecret.of(ctx), "F", self.label_holder)
        keys = self._keys
        if isinstance(keys, OuKeyPair):
            pub = keys.public
            ctx.send(self.label_holder, OuKey(_b(pub.n), _b(pub.g), _b(pub.h), pub.key_bits))
        else:
            ctx.send(self.label_holder, PaillierKey(_b(keys.public.n), _b(keys.public.hs)))
        u = ctx.recv(self.label_holder, InteractiveWidth).u
        if not 1 <= u <= 4096 or (self.acc is not None and self.acc.shape != (self.width, u)):
            raise ProtocolError(
                f"split_paillier.InteractiveWidth from {self.label_holder}: width {u} does "
                f"not fit this party's model; both sides must run the same job spec"
            )
        self.u = u
        capacity = self._engine.capacity_bits
        self._lay = Layouts.build(capacity, self.f, self.width, u, self.packing, self.batch_size)

    def initial_share(self, ctx: PartyContext, fresh: bool) -> None:
        """Send M = W_F − acc₀ (messages.InitialShare); keep acc₀ when training starts
        afresh (`fresh`), else the checkpoint's acc. Always sent, and always the same bytes
        (both halves come from the party secret), so a restarted party repeats it."""
        shape = ctx.recv(self.label_holder, InteractiveShape)
        if shape.u != self.u or not 1 <= shape.fan_in <= 1 << 20:
            raise ProtocolError(
                f"split.InteractiveShape from {self.label_holder}: u = {shape.u}, fan_in = "
                f"{shape.fan_in} do not match this party's model (u = {self.u})"
            )
        secret = PartySecret.of(ctx)
        half = feature_half(secret, self.width, self.u, shape.fan_in)
        acc0 = self.initial_mask(secret)
        ctx.send(
            self.label_holder, InitialShare(pack_signed(encode_exact(half.numpy(), self.f) - acc0))
        )
        if fresh:
            self.acc = acc0
            self.velocity = self.momentum.zeros((self.width, self.u))

    def initial_mask(self, secret: PartySecret) -> Shares:
        """acc₀, uniform on [−2^k, 2^k) with k = acc0_bits(f): hides W_F inside M."""
        draws = secret.derive(f"split_paillier/F/{self.label_holder}/acc0", "init")
        return uniform_signed(draws, (self.width, self.u), acc0_bits(self.f))

    @property
    def rand(self) -> SideRandomness:
        assert self._rand is not None, "start() first"
        return self._rand

    def close(self) -> None:
        self._pool.close()

    def _handshake_done(self) -> Shares:
        assert self.acc is not None, "initial_share (train) or load_state (evaluate) first"
        return self.acc

    # -- forward: F1, F1b, then F2 → F3 ------------------------------------------------
    def forward_batch(self, ctx: PartyContext, a: torch.Tensor, training: bool) -> None:
        acc = self._handshake_done()
        key, lay, f, clock = self._keys.public, self.lay, self.f, self.clock
        obf = self.rand.obfuscators(ctx.scope)
        with clock("F1.pack"):
            ai = encode(a.detach().double().numpy(), f, A_BITS, "cut-layer activations")
            rows, groups, s = ai.shape[0], lay.groups(ai.shape[0]), lay.batch.slots
            plains = [
                lay.batch.pack([int(v) for v in ai[g * s : (g + 1) * s, k]])
                for k in range(self.width)
                for g in range(groups)
            ]
        with clock("F1.encrypt"):
            body = to_wire(key, self._engine.encrypt(plains, obf), ai.shape, "batch", lay.batch, f)
        ctx.send(self.label_holder, EncryptedActivations(body))
        if training:
            self._a = ai
            ctx.send(self.label_holder, self._backward_inputs(ai, obf))
        where = f"split_paillier.MaskedProduct from {self.label_holder}"
        msg = ctx.recv(self.label_holder, MaskedProduct)
        count = self.u * groups
        with clock("F3.share"):
            share = ai.astype(object) @ acc  # exact a·acc at scale 2^2f
            own = [
                sum(
                    int(v) << (t * lay.batch.width)
                    for t, v in enumerate(share[g * s : (g + 1) * s, j])
                )
                for j in range(self.u)
                for g in range(groups)
            ]
        with clock("F2.decrypt"):  # a·V + e1, plus a·acc: a·W + e1, checked before it leaves
            out = self._engine.open(
                from_wire(key, msg.values, count, "batch", lay.batch, where),
                self._engine.masked_bound_bits(lay.batch.packed_bits),
                where,
                own,
            )
        with clock("F3.share"):
            body_out = plain_to_bytes(key, out)
        ctx.send(self.label_holder, UnmaskedProduct(len(out), body_out))
        following = next_batch_scope(ctx.scope)
        if training and following:  # the next batch's F1 and F1b, while L works on this one
            with clock("F1.encrypt"):
                self._engine.prefill(
                    self.rand.obfuscators(following),
                    self.width * groups + rows * lay.row_chunks + lay.acc_count,
                )

    def _backward_inputs(
        self, ai: NDArray[np.int64], obf: DerivedRandomness
    ) -> EncryptedBackwardInputs:
        key, lay, f, acc = self._keys.public, self.lay, self.f, self._handshake_done()
        with self.clock("F1b.pack"):
            sr = lay.rows.slots
            row_plains = [
                lay.rows.pack([int(v) for v in ai[i, c * sr : (c + 1) * sr]])
                for i in range(ai.shape[0])
                for c in range(lay.row_chunks)
            ]
            cl, w = lay.acc_chunk, lay.acc.width
            acc_plains = [0] * lay.acc_count
            for t in range(lay.acc_rows):
                for j in range(self.u):
                    for c in range(lay.acc_chunks):
                        col = acc[c * cl : (c + 1) * cl, j]
                        acc_plains[lay.acc_index(t, j, c)] = sum(
                            int(v) << ((t * cl + k) * w) for k, v in enumerate(col)
                        )
        with self.clock("F1b.encrypt"):
            return EncryptedBackwardInputs(
                to_wire(key, self._engine.encrypt(row_plains, obf), ai.shape, "rows", lay.rows, f),
                to_wire(key, self._engine.encrypt(acc_plains, obf), acc.shape, "acc", lay.acc, f),
            )

    # -- backward: B1 + B4 → B2 ------------------------------------------------------------
    def backward_batch(self, ctx: PartyContext, rows: int) -> torch.Tensor:
        assert self._a is not None, "forward_batch(training=True) first"
        key, lay = self._keys.public, self.lay
        where = f"split_paillier.EncryptedGradients from {self.label_holder}"
        msg = ctx.recv(self.label_holder, EncryptedGradients)
        n_w = self.u * lay.row_chunks
        outs = lay.acc_outputs(rows) if self.input_grad else 0
        engine = self._engine
        with self.clock("B1+B4.decrypt"):
            w_cts = from_wire(key, msg.weight_grad, n_w, "rows", lay.rows, where)
            in_cts = from_wire(key, msg.input_grad, outs, "acc", lay.acc, where)
            plain = engine.open(
                w_cts, engine.masked_bound_bits(lay.rows.packed_bits), f"{where} weight_grad"
            ) + engine.open(in_cts, lay.acc.packed_bits, f"{where} input_grad")
        with self.clock("B2.mask"):
            body = self._mask_gradient(plain, n_w, self.rand.stream("epsilon", ctx.scope))
        ctx.send(self.label_holder, MaskedWeightGradient(n_w, body))
        self._a = None
        if not self.input_grad:
            return torch.zeros(rows, self.width)
        with self.clock("B4.unpack"):
            grad = self._input_grad(plain[n_w:], rows, int(key.n))
        return torch.from_numpy(grad).float()

    def _mask_gradient(self, plain: list[int], n_w: int, draws: DerivedRandomness) -> bytes:
        """B2: add ε (scale 2^2f) to every slot of aᵀδ + e2; keep η·ε in acc (scale 2^f),
        or with momentum η times F's share of the step (share_momentum.py).

        ε[i, j] is uniform in [−2^k, 2^k), k = eps_bits(f, B) (layouts.py): value i·u + j
        of a stream derived from the party secret and the batch scope."""
        key, lay, f = self._keys.public, self.lay, self.f
        eps = uniform_signed(draws, (self.width, self.u), eps_bits(f, lay.batch_size))
        sr, out = lay.rows.slots, []
        for j in range(self.u):
            for c in range(lay.row_chunks):
                noise = sum(
                    int(v) << (k * lay.rows.width)
                    for k, v in enumerate(eps[c * sr : (c + 1) * sr, j])
                )
                out.append(int(plain[j * lay.row_chunks + c]) + noise)
        self.velocity, step = self.momentum.direction(self.velocity, eps, "velocity of ε")
        self.acc = check_wide(self._handshake_done() + sgd_step(step, self.lr, f), "acc")
        assert len(out) == n_w
        return plain_to_bytes(key, out)

    def _input_grad(self, plain: list[int], rows: int, n: int) -> NDArray[np.float64]:
        what = "split_paillier.EncryptedGradients.input_grad"
        grad = self.lay.unpack_acc_rows([int(v) for v in plain], rows, n, what)
        return grad / float(2 ** (2 * self.f))


def _b(x: object) -> bytes:
    v = int(x)  # type: ignore[call-overload]
    out: bytes = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return out
