"""The label holder's attack on a feature holder's cut-layer activations.

What L receives in the first training batch under Paillier: z_F = a·W₀ (F3, after removing
its own mask e1), and the share M = W_F − acc₀ (InitialShare). L holds V₀ = W_L + M and
knows its own half W_L. With u ≥ d, knowing W₀ gives a = z_F·W₀⁺ exactly, for every row:
the leak a review found when acc₀ was 0 and W₀ came from the job seed. The attack tries
L's best estimates of W₀ (V₀, and W_L alone) and reports the smallest relative error
‖â − a‖/‖a‖ against the true activations, which only F can decrypt (F1 under F's key).
Under `protection = "none"` L receives a itself: the error is 0 by construction.

The attack uses only what L received (the transcript), its own message InteractiveShape
(read from F's transcript: L sent it) and L's party secret, which re-derives e1 and W_L
exactly as L's program did. The truth comes from F's workspace (its Paillier key).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.split.initial_weights import label_half
from vfl.algorithms.split.messages import INIT_STEP, InteractiveShape
from vfl.algorithms.split.paillier import messages as pm
from vfl.algorithms.split.paillier.layouts import Layouts
from vfl.algorithms.split.paillier.shares import encode_exact, unpack_signed
from vfl.algorithms.split.paillier.side_randomness import SideRandomness
from vfl.config.job_spec import JobSpec, VerticalJobSpec, vertical
from vfl.crypto import kernels
from vfl.crypto.keys import PublicKey
from vfl.crypto.wire import from_wire, plain_from_bytes
from vfl.errors import ProtocolError
from vfl.privacy.attacks.base import AttackName, Metric
from vfl.privacy.audit_run import AuditRun
from vfl.privacy.received.paillier import stored_train_keys
from vfl.result import AttackFinding
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

FIRST_BATCH = "train/epoch=0/batch=0"
EXCHANGE = "train/step=exchange"
INIT = f"train/step={INIT_STEP}"


@dataclass(frozen=True)
class Reconstruction:
    """L's best reconstruction of F's first-batch activations, and how far off it is."""

    relative_error: float
    """min over L's estimates of W₀ of ‖â − a‖_F / ‖a‖_F (0: exact; ~1: nothing learned)."""
    by_estimate: dict[str, float]


class ActivationReconstruction:
    """The label holder inverts z_F = a·W₀ for each feature holder (vertical jobs)."""

    name = AttackName.ACTIVATION_RECONSTRUCTION

    def skip_reason(self, spec: JobSpec) -> str | None:
        return (
            None if isinstance(spec, VerticalJobSpec) else "activation reconstruction is vertical"
        )

    def mount(self, run: AuditRun) -> list[AttackFinding]:
        spec = vertical(run.spec)
        label = spec.label_holder.name
        secret = run.secret(label)
        findings = []
        for feature in (p.name for p in spec.feature_holders):
            if spec.train.protection == "none":
                error = 0.0  # L receives split.Activations: a itself
            else:
                error = label_holder_reconstruction(
                    run.transcript,
                    spec,
                    run.job_id,
                    label,
                    feature,
                    secret,
                    run.workspaces[feature],
                ).relative_error
            findings.append(AttackFinding(label, feature, self.name, Metric.RELATIVE_ERROR, error))
        return findings


def label_holder_reconstruction(
    transcript: Transcript,
    spec: VerticalJobSpec,
    job_id: str,
    label: str,
    feature: str,
    label_secret: PartySecret,
    feature_workspace: Workspace,
) -> Reconstruction:
    """L's attack on F's first training batch; `label_secret` is L's party secret as its
    program derived it (PartySecret.of in the run)."""
    t, f = spec.train, spec.train.precision_bits
    key_msg = transcript.one(label, feature, pm.PaillierKey, EXCHANGE)
    key = PublicKey.from_bytes(key_msg.n, key_msg.hs, "transcript")
    shape = transcript.one(feature, label, InteractiveShape, INIT)  # L's own message
    f1 = transcript.one(label, feature, pm.EncryptedActivations, FIRST_BATCH)
    rows, d = (int(x) for x in f1.values.shape)
    u, n = shape.u, int(key.n)
    lay = Layouts.build(key.bits, f, d, u, t.packing, t.batch_size)

    # L's view: z_F with its own e1 removed, V₀ = W_L + M, and W_L
    f3 = transcript.one(label, feature, pm.UnmaskedProduct, FIRST_BATCH)
    values = plain_from_bytes(key, f3.values, f3.count, "transcript")
    draws = SideRandomness(label_secret, "L", feature).stream("e1", FIRST_BATCH)
    unmasked = [v - draws.below(i, n) for i, v in enumerate(values)]
    z = lay.unpack_batch(unmasked, rows, u, n, "z_F") / float(2 ** (2 * f))
    share = transcript.one(label, feature, pm.InitialShare, INIT)
    w_label = label_half(label_secret, feature, d, u, shape.fan_in)
    v0 = encode_exact(w_label.numpy(), f) + unpack_signed(share.values, (d, u), "transcript")
    estimates = {"V0": _floats(v0) / 2**f, "W_L": w_label.numpy().astype(np.float64)}

    truth = _true_activations(key, f1, lay, rows, d, job_id, feature_workspace)
    norm = float(np.linalg.norm(truth))
    errors = {
        name: float(np.linalg.norm(z @ np.linalg.pinv(w) - truth)) / norm
        for name, w in estimates.items()
    }
    return Reconstruction(min(errors.values()), errors)


def _true_activations(
    key: PublicKey,
    f1: pm.EncryptedActivations,
    lay: Layouts,
    rows: int,
    d: int,
    job_id: str,
    feature_workspace: Workspace,
) -> NDArray[np.float64]:
    """F1 decrypted with F's own key: the activations F actually sent."""
    keys = stored_train_keys(feature_workspace, job_id, "the feature holder")
    if keys.public.n != key.n:
        raise ProtocolError("audit: the feature holder's stored key is not the one it sent")
    cts = from_wire(key, f1.values, d * lay.groups(rows), "batch", lay.batch, "transcript")
    plains = kernels.decrypt_crt(cts, keys.private.p, keys.private.q)
    a: NDArray[np.float64] = lay.unpack_batch([int(p) for p in plains], rows, d, int(key.n), "a")
    return a / float(2**lay.f)


def _floats(values: NDArray[np.object_]) -> NDArray[np.float64]:
    return np.array([[float(x) for x in row] for row in values])
