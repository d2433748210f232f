"""What crosses the wire in a Paillier-protected run: only fresh, re-randomised ciphertexts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gmpy2 import mpz

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import run_job
from vfl.config.paillier_bounds import (
    A_BITS,
    DELTA_BITS,
    INIT_BITS,
    STAT_BITS,
    acc0_bits,
    eps_bits,
    rows_slot_error,
)
from vfl.crypto.engine import PaillierEngine
from vfl.crypto.keys import KeyPair
from vfl.crypto.testing import insecure_keygen, insecure_keypair
from vfl.crypto.worker_pool import WorkerPool
from vfl.protocol.v1 import envelope_pb2


def _ciphertexts(body: bytes) -> list[tuple[bytes, int]]:
    parsed = envelope_pb2.Body()
    parsed.ParseFromString(body)
    out = []
    for field in parsed.fields:
        if field.WhichOneof("value") == "encrypted":
            t = field.encrypted
            out += [
                (t.key_fingerprint, int.from_bytes(t.ciphertexts[i : i + t.width], "big"))
                for i in range(0, len(t.ciphertexts), t.width)
            ]
    return out


def test_ciphertexts_on_the_wire_are_randomised_and_no_private_key_leaves(tmp_path: Path) -> None:
    keys: list[KeyPair] = []
    make = insecure_keygen(512)

    def recording(bits: int) -> KeyPair:
        keys.append(make(bits))
        return keys[-1]

    paths = synthetic_vertical(tmp_path, {"bank": 3, "shop": 4, "telco": 2}, rows=120)
    spec = job_spec(job_dict(paths, train={"protection": "paillier", "workers": 1, "epochs": 1}))
    run = run_job(spec, tmp_path, recording)
    by_fp = {k.public.fingerprint: k for k in keys}
    seen: set[int] = set()
    total = 0
    for env in run.hub.envelopes:
        for fp, c in _ciphertexts(env.body):
            n = int(by_fp[fp].public.n)
            assert (c - 1) % n != 0, f"{env.kind}: a trivial (unrandomised) ciphertext"
            assert c not in seen, f"{env.kind}: a ciphertext was sent twice"
            seen.add(c)
            total += 1
        raw = env.to_bytes()
        for k in keys:
            for secret in (k.private.p, k.private.q):
                s = int(secret)
                assert s.to_bytes((s.bit_length() + 7) // 8, "big") not in raw
                assert str(s).encode() not in raw
    assert total > 100 and len(keys) == 4  # 2 feature holders x (train, evaluate)


def test_encrypting_the_same_activations_twice_gives_different_ciphertexts() -> None:
    engine = PaillierEngine.owner(insecure_keypair(512), WorkerPool(1))
    a, b = engine.encrypt([5, 5])
    assert a != b and engine.decrypt([a]) == engine.decrypt([b]) == [mpz(5)]


def test_protocol_algebra_without_noise_or_encryption_is_the_plain_split_model() -> None:
    """PAILLIER_SPLIT.md's skeleton with e1 = e2 = 0 and no encryption, in floats."""
    rng = np.random.default_rng(0)
    a, delta = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    w = rng.normal(size=(4, 3))
    acc = rng.normal(size=(4, 3)) * 100
    v, lr = w - acc, 0.1
    eps = rng.normal(size=(4, 3)) * 1000
    z = a @ v + a @ acc  # F2 + F3
    input_grad = delta @ v.T + delta @ acc.T  # B4 before the update
    masked = a.T @ delta + eps  # B2
    v, acc = v - lr * masked, acc + lr * eps
    assert np.allclose(z, a @ w)
    assert np.allclose(input_grad, delta @ w.T)
    assert np.allclose(v + acc, w - lr * a.T @ delta)


def test_mask_widths_follow_the_written_bounds() -> None:
    """ε covers |aᵀδ| < 2^(A+D+⌈log2 B⌉) at scale 2^2f with 40 bits to spare; acc₀ covers
    |W_F| < 2^INIT_BITS at scale 2^f likewise; a batch the slots cannot hold is refused."""
    assert STAT_BITS == 40
    assert eps_bits(16, 256) == A_BITS + DELTA_BITS + 8 + 32 + 40
    assert eps_bits(16, 257) == eps_bits(16, 256) + 1  # one more bit of log2 B
    assert acc0_bits(16) == INIT_BITS + 16 + 1 + 40
    assert rows_slot_error(2048, 24, 1_000_000) is None
    error = rows_slot_error(96, 24, 4096)
    assert error is not None and "train.batch_size = 4096" in error
