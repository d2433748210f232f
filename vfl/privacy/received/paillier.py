"""F's view under `protection = "paillier"`: the B4 input gradient, decrypted with F's key.

F decrypts `EncryptedGradients.input_grad` itself to train its bottom model, so its train
key pair, which it keeps in its workspace (phase_keys.py), is part of what an attacking
feature holder holds. Presets send no input gradient: F then sees none.
"""

from __future__ import annotations

import numpy as np
from gmpy2 import mpz
from numpy.typing import NDArray

from vfl.algorithms.split.paillier.layouts import Layouts
from vfl.algorithms.split.paillier.messages import EncryptedGradients, InteractiveWidth
from vfl.algorithms.split.paillier.phase_keys import phase_keypair
from vfl.crypto.engine import PaillierEngine
from vfl.crypto.keys import KeyPair
from vfl.crypto.wire import from_wire
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import ProtocolError
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.gradient import ReceivedGradient, batch_gradient

WHAT = "split_paillier.EncryptedGradients.input_grad"


def paillier_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    keys = _train_keys(run, party)
    u = _interactive_width(run, party)
    f, packing = run.spec.train.precision_bits, run.spec.train.packing
    pool = WorkerPool(run.spec.train.workers)
    try:
        engine = PaillierEngine.owner(keys, pool)
        out = []
        for entry, msg in run.transcript.messages(party, EncryptedGradients):
            if msg.input_grad.count == 0:
                continue
            rows, d = msg.input_grad.shape
            lay = Layouts.build(keys.public.bits, f, d, u, packing, run.spec.train.batch_size)
            count = -(-rows // lay.acc_rows) * lay.acc_chunks
            where = f"audit: {WHAT} received by {party} in {entry.scope}"
            cts = from_wire(keys.public, msg.input_grad, count, "acc", lay.acc, where)
            values = _unpack(lay, engine.decrypt(cts), rows, int(keys.public.n))
            got = batch_gradient(run, party, entry.scope, values / float(2 ** (2 * f)))
            if got is not None:
                out.append(got)
        return out
    finally:
        pool.close()


def _train_keys(run: AuditRun, party: str) -> KeyPair:
    def missing(_bits: int) -> KeyPair:
        raise ProtocolError(
            f"audit: {party}'s train key pair is not in its workspace "
            f"({run.workspaces[party].root}); the audit needs the workspace of the run"
        )

    t = run.spec.train
    return phase_keypair(run.workspaces[party], run.job_id, "train", t.key_bits, missing)


def _interactive_width(run: AuditRun, party: str) -> int:
    for entry, msg in run.transcript.messages(party, InteractiveWidth):
        if entry.scope.startswith("train/"):
            return msg.u
    raise ProtocolError(f"audit: {party} received no InteractiveWidth in the train phase")


def _unpack(lay: Layouts, plain: list[mpz], rows: int, n: int) -> NDArray[np.float64]:
    """Slots → the B×d matrix at scale 2^2f, as PaillierFeatureSide._input_grad does: p
    rows per ciphertext, each row in chunks of `acc_chunk` features."""
    cl, p, d = lay.acc_chunk, lay.acc_rows, lay.d
    grad = np.zeros((rows, d))
    for r in range(-(-rows // p)):
        for c in range(lay.acc_chunks):
            width = min(cl, d - c * cl)
            in_group = min(p, rows - r * p)
            vals = lay.acc.unpack(int(plain[r * lay.acc_chunks + c]), n, in_group * cl, WHAT)
            for t in range(in_group):
                grad[r * p + t, c * cl : c * cl + width] = vals[t * cl : t * cl + width]
    return grad
