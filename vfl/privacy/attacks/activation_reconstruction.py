"""The label holder's attack on a Paillier feature holder's cut-layer activations.

What L receives in the first training batch: z_F = a·W₀ (F3, after removing its own mask
e1), and the share M = W_F − acc₀ (InitialShare). L holds V₀ = W_L + M and knows its own
half W_L. With u ≥ d, knowing W₀ gives a = z_F·W₀⁺ exactly, for every row; this is the
leak the review found when acc₀ was 0 and W₀ came from the job seed. The attack tries L's
best estimates of W₀ (V₀, and W_L alone) and reports the smallest relative error
‖â − a‖/‖a‖ against the true activations, which only F can decrypt (F1 under F's key).

Everything is computed from the recorded envelopes and the attacker's own workspace
(its party secret re-derives e1 and W_L exactly as its program did); the truth comes from
the victim's workspace (its Paillier key). Nothing here runs inside a party.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vfl.algorithms.split.initial_weights import interactive_half, label_half_purpose
from vfl.algorithms.split.messages import InteractiveShape
from vfl.algorithms.split.paillier import messages as pm
from vfl.algorithms.split.paillier.layouts import Layouts
from vfl.algorithms.split.paillier.phase_keys import key_file
from vfl.algorithms.split.paillier.shares import encode_exact, unpack_signed
from vfl.algorithms.split.paillier.side_randomness import SideRandomness
from vfl.config.job_spec import JobSpec
from vfl.crypto import kernels
from vfl.crypto.key_file import keypair_from_bytes
from vfl.crypto.keys import PublicKey
from vfl.crypto.wire import from_wire, plain_from_bytes
from vfl.errors import ProtocolError
from vfl.protocol import serde
from vfl.protocol.envelope import Envelope
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace

FIRST_BATCH = "train/epoch=0/batch=0"


@dataclass(frozen=True)
class Reconstruction:
    """L's best reconstruction of F's first-batch activations, and how far off it is."""

    relative_error: float
    """min over L's estimates of W₀ of ‖â − a‖_F / ‖a‖_F (0: exact; ~1: nothing learned)."""
    by_estimate: dict[str, float]


class EnvelopeLog:
    """The decoded messages of one job between L and F, found by kind and scope."""

    def __init__(self, envelopes: Sequence[Envelope], label: str, feature: str) -> None:
        self._envelopes = [e for e in envelopes if {e.src, e.dst} == {label, feature}]

    def one(self, sender: str, kind: type[object], scope: str) -> object:
        name = serde.kind_of(kind)
        for e in self._envelopes:
            if e.src == sender and e.kind == name and e.seq.split("#")[0] == scope:
                return serde.decode(e.body, kind)
        raise ProtocolError(f"transcript: no {name} from {sender} in scope {scope}")


def label_holder_reconstruction(
    envelopes: Sequence[Envelope],
    spec: JobSpec,
    job_id: str,
    label: str,
    feature: str,
    label_secret: PartySecret,
    feature_workspace: Workspace,
) -> Reconstruction:
    """L's attack on F's first training batch; `label_secret` is L's party secret (its
    workspace's, bound to the spec as L ran it: PartySecret.for_spec)."""
    t, f = spec.train, spec.train.precision_bits
    seen = EnvelopeLog(envelopes, label, feature)
    key_msg = seen.one(feature, pm.PaillierKey, "train/step=exchange")
    assert isinstance(key_msg, pm.PaillierKey)
    key = PublicKey.from_bytes(key_msg.n, key_msg.hs, "transcript")
    shape = seen.one(label, InteractiveShape, "train/step=init")
    assert isinstance(shape, InteractiveShape)
    f1 = seen.one(feature, pm.EncryptedActivations, FIRST_BATCH)
    assert isinstance(f1, pm.EncryptedActivations)
    rows, d = (int(x) for x in f1.values.shape)
    u, n = shape.u, int(key.n)
    lay = Layouts.build(key.bits, f, d, u, t.packing, t.batch_size)

    # L's view: z_F with its own e1 removed, V₀ = W_L + M, and W_L
    secret = label_secret
    f3 = seen.one(feature, pm.UnmaskedProduct, FIRST_BATCH)
    assert isinstance(f3, pm.UnmaskedProduct)
    values = plain_from_bytes(key, f3.values, f3.count, "transcript")
    draws = SideRandomness(secret, "L", feature).stream("e1", FIRST_BATCH)
    unmasked = [v - draws.below(i, n) for i, v in enumerate(values)]
    z = lay.unpack_batch(unmasked, rows, u, n, "z_F") / float(2 ** (2 * f))
    share = seen.one(feature, pm.InitialShare, "train/step=init")
    assert isinstance(share, pm.InitialShare)
    w_label = interactive_half(secret, label_half_purpose(feature), d, u, shape.fan_in).numpy()
    v0 = encode_exact(w_label, f) + unpack_signed(share.values, (d, u), "transcript")
    estimates = {"V0": _floats(v0) / 2**f, "W_L": w_label.astype(np.float64)}

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
    data = feature_workspace.private(key_file(job_id, "train"), _missing)
    keys = keypair_from_bytes(data, "feature holder's train key")
    cts = from_wire(key, f1.values, d * lay.groups(rows), "batch", lay.batch, "transcript")
    plains = kernels.decrypt_crt(cts, keys.private.p, keys.private.q)
    a: NDArray[np.float64] = lay.unpack_batch([int(p) for p in plains], rows, d, int(key.n), "a")
    return a / float(2**lay.f)


def _floats(values: NDArray[np.object_]) -> NDArray[np.float64]:
    return np.array([[float(x) for x in row] for row in values])


def _missing() -> bytes:
    raise ProtocolError("the feature holder's train key is not in its workspace")
