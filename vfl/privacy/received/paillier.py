"""F's view under `protection = "paillier"`: the B4 input gradient, decrypted with F's key.

F decrypts `EncryptedGradients.input_grad` itself to train its bottom model, so its train
key pair, which it keeps in its workspace (phase_keys.py), is part of what an attacking
feature holder holds. Presets send no input gradient: F then sees none.
"""

from __future__ import annotations

from vfl.algorithms.split.paillier.layouts import Layouts
from vfl.algorithms.split.paillier.messages import EncryptedGradients, InteractiveWidth
from vfl.algorithms.split.paillier.phase_keys import phase_keypair
from vfl.config.job_spec import vertical
from vfl.crypto.engine import PaillierEngine
from vfl.crypto.keys import KeyPair
from vfl.crypto.wire import from_wire
from vfl.crypto.worker_pool import WorkerPool
from vfl.errors import ProtocolError
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.gradient import ReceivedGradient, batch_gradient
from vfl.runtime.workspace import Workspace

WHAT = "split_paillier.EncryptedGradients.input_grad"


def paillier_gradients(run: AuditRun, party: str) -> list[ReceivedGradient]:
    keys = _train_keys(run, party)
    u = _interactive_width(run, party)
    train = vertical(run.spec).train
    f, packing = train.precision_bits, train.packing
    pool = WorkerPool(train.workers)
    try:
        engine = PaillierEngine.owner(keys, pool)
        out = []
        for entry, msg in run.transcript.messages(party, EncryptedGradients):
            if msg.input_grad.count == 0:
                continue
            rows, d = msg.input_grad.shape
            lay = Layouts.build(keys.public.bits, f, d, u, packing, train.batch_size)
            count = lay.acc_outputs(rows)
            where = f"audit: {WHAT} received by {party} in {entry.scope}"
            cts = from_wire(keys.public, msg.input_grad, count, "acc", lay.acc, where)
            plains = [int(v) for v in engine.decrypt(cts)]
            values = lay.unpack_acc_rows(plains, rows, int(keys.public.n), WHAT)
            got = batch_gradient(run, party, entry.scope, values / float(2 ** (2 * f)))
            if got is not None:
                out.append(got)
        return out
    finally:
        pool.close()


def _train_keys(run: AuditRun, party: str) -> KeyPair:
    return stored_train_keys(run.workspaces[party], run.job_id, party)


def stored_train_keys(workspace: Workspace, job_id: str, party: str) -> KeyPair:
    """The train-phase Paillier key pair a feature holder kept in its workspace: what it
    decrypts with, so what an attack mounted by (or scored against) it may use."""

    def missing(_bits: int) -> KeyPair:
        raise ProtocolError(
            f"audit: {party}'s train key pair is not in its workspace "
            f"({workspace.root}); the audit needs the workspace of the run"
        )

    return phase_keypair(workspace, job_id, "train", 0, missing)


def _interactive_width(run: AuditRun, party: str) -> int:
    for entry, msg in run.transcript.messages(party, InteractiveWidth):
        if entry.scope.startswith("train/"):
            return msg.u
    raise ProtocolError(f"audit: {party} received no InteractiveWidth in the train phase")
