"""L's ciphertexts back to F are re-randomised: recomputing L's homomorphic work shows it.

F2 = Π_k [[a_k]]^V[k,j] · (1 + n·e1) is a deterministic function of what F sent (F1) and
of L's secrets (V₀, e1), all re-derivable here from L's workspace and the transcript. The
ciphertext L sent must differ from that product in every position: L multiplied in a
fresh r^n. A broken L that skips re-randomisation sends exactly the product (the control),
which shows this test can fail; the old test (no ciphertext sent twice, none trivial)
passed on such a run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gmpy2 import mpz

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import FIXED_SPEC_DIGEST, run_job
from vfl.algorithms.split.initial_weights import label_half
from vfl.algorithms.split.messages import InteractiveShape
from vfl.algorithms.split.paillier import messages as pm
from vfl.algorithms.split.paillier.layouts import Layouts
from vfl.algorithms.split.paillier.shares import encode_exact, unpack_signed
from vfl.algorithms.split.paillier.side_randomness import SideRandomness
from vfl.crypto import engine, kernels
from vfl.crypto.keys import PublicKey
from vfl.crypto.wire import from_wire
from vfl.privacy.attacks.activation_reconstruction import EXCHANGE, FIRST_BATCH, INIT
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace

L, F = "bank", "shop"


def _sent_and_recomputed(tmp_path: Path) -> tuple[list[mpz], list[mpz]]:
    paths = synthetic_vertical(tmp_path, {L: 3, F: 4}, rows=96)
    train = {"protection": "paillier", "workers": 1, "epochs": 1, "batch_size": 32}
    spec = job_spec(job_dict(paths, train=train, model={"cut_width": 4}))
    seen = Transcript()
    run_job(spec, tmp_path / "run", transcript=seen)
    key_msg = seen.one(L, F, pm.PaillierKey, EXCHANGE)
    key = PublicKey.from_bytes(key_msg.n, key_msg.hs, "test")
    shape = seen.one(F, L, InteractiveShape, INIT)
    f1 = seen.one(L, F, pm.EncryptedActivations, FIRST_BATCH)
    f2 = seen.one(F, L, pm.MaskedProduct, FIRST_BATCH)
    share = seen.one(L, F, pm.InitialShare, INIT)
    rows, d = (int(x) for x in f1.values.shape)
    u, f, n = shape.u, spec.train.precision_bits, int(key.n)
    lay = Layouts.build(key.bits, f, d, u, True, spec.train.batch_size)
    groups = lay.groups(rows)
    secret = PartySecret.load(Workspace(tmp_path / "run" / L), "job", L, FIXED_SPEC_DIGEST)
    half = label_half(secret, F, d, u, shape.fan_in).numpy()
    v0 = encode_exact(half, f) + unpack_signed(share.values, (d, u), "test")
    bases = from_wire(key, f1.values, d * groups, "batch", lay.batch, "test")
    terms = [
        [(k * groups + g, int(v0[k, j])) for k in range(d)] for j in range(u) for g in range(groups)
    ]
    product = kernels.multi_exp(bases, terms, key.n2)
    e1 = SideRandomness(secret, "L", F).stream("e1", FIRST_BATCH)
    recomputed = [c * (1 + key.n * (e1.below(i, n) % n)) % key.n2 for i, c in enumerate(product)]
    sent = from_wire(key, f2.values, u * groups, "batch", lay.batch, "test")
    return sent, recomputed


def test_label_holder_rerandomises_every_ciphertext_it_sends_back(tmp_path: Path) -> None:
    sent, recomputed = _sent_and_recomputed(tmp_path)
    assert len(sent) == len(recomputed) > 0
    assert all(s != r for s, r in zip(sent, recomputed, strict=True))


def test_a_label_holder_that_skips_rerandomisation_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_obfuscators(self: engine.PaillierEngine, source: object, count: int) -> list[mpz]:
        return [mpz(1)] * count

    monkeypatch.setattr(engine.PaillierEngine, "obfuscators", no_obfuscators)
    sent, recomputed = _sent_and_recomputed(tmp_path)
    assert sent == recomputed
