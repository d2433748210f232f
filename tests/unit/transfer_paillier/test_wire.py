"""What crosses the wire: fresh or re-randomised ciphertexts only, no key, bounded inputs.

Re-randomisation is checked against what the sender could otherwise have sent: the bare
homomorphic product times (1 + n·R), a deterministic function of the peer's ciphertexts
and the sender's scalars and masks. The key owner receives it and knows the
factorisation, so without a fresh r^n it could read the sender's scalars out of the
randomness. A control run that skips the r^n is caught by the same check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gmpy2 import mpz

from tests.unit.transfer_paillier.harness import KEY_BITS, A, B, random_batch, start_pair
from vfl.crypto import engine as engine_module
from vfl.crypto.engine import Obfuscation, PaillierEngine, RandomSource
from vfl.crypto.testing import insecure_keypair
from vfl.errors import CryptoError, ProtocolError
from vfl.protocol.envelope import Envelope
from vfl.protocol.v1 import envelope_pb2

ROWS, P, WIDTH = 40, 3, 6


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


class _Spy:
    """Records every (bare product, mask) an OWNER_HIDING engine re-randomises."""

    def __init__(self) -> None:
        self.bare: set[int] = set()

    def install(self, monkeypatch: pytest.MonkeyPatch, skip_rerandomisation: bool) -> None:
        original = PaillierEngine.add_plain
        spy = self

        def add_plain(
            self: PaillierEngine,
            cts: list[mpz],
            plaintexts: list[int],
            source: RandomSource | None = None,
        ) -> list[mpz]:
            if self.obfuscation is Obfuscation.OWNER_HIDING:
                n, n2 = self.key.n, self.key.n2
                bare = [
                    c * (1 + n * (mpz(m) % n)) % n2 for c, m in zip(cts, plaintexts, strict=True)
                ]
                spy.bare.update(int(b) for b in bare)
                if skip_rerandomisation:
                    return bare
            return original(self, cts, plaintexts, source)

        monkeypatch.setattr(engine_module.PaillierEngine, "add_plain", add_plain)


def _run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skip: bool, width: int = WIDTH
) -> tuple[_Spy, list[Envelope]]:
    spy = _Spy()
    spy.install(monkeypatch, skip)
    pair = start_pair(tmp_path, width, ROWS)
    try:
        for step in range(2):
            pair.exchange(random_batch(ROWS, P, P, width, seed=step), {"epoch": 0, "batch": step})
    finally:
        pair.close()
    return spy, pair.hub.envelopes


@pytest.mark.parametrize("width", [WIDTH, 2])  # 2: three result rows per masked ciphertext
def test_every_ciphertext_is_fresh_or_rerandomised_and_no_private_key_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    spy, envelopes = _run(tmp_path, monkeypatch, skip=False, width=width)
    keys = {
        k.public.fingerprint: k
        for k in (insecure_keypair(KEY_BITS), insecure_keypair(KEY_BITS + 8))
    }
    seen: set[int] = set()
    masked = 0
    for env in envelopes:
        for fp, c in _ciphertexts(env.body):
            n = int(keys[fp].public.n)
            assert (c - 1) % n != 0, f"{env.kind}: a trivial (unrandomised) ciphertext"
            assert c not in seen, f"{env.kind}: a ciphertext was sent twice"
            seen.add(c)
            if "Masked" in env.kind:
                masked += 1
                assert c not in spy.bare, f"{env.kind}: the bare product went back to its key owner"
        for k in keys.values():
            for secret in (k.private.p, k.private.q):
                raw = int(secret).to_bytes((int(secret).bit_length() + 7) // 8, "big")
                assert raw not in env.body, f"{env.kind}: a private prime on the wire"
    assert masked > 0 and len(spy.bare) >= masked


@pytest.mark.parametrize("width", [WIDTH, 2])
def test_the_check_catches_a_side_that_skips_rerandomisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    spy, envelopes = _run(tmp_path, monkeypatch, skip=True, width=width)
    sent = [c for env in envelopes if "Masked" in env.kind for _, c in _ciphertexts(env.body)]
    assert sent and all(c in spy.bare for c in sent)


def test_replayed_batches_send_identical_bytes(tmp_path: Path) -> None:
    """Every random value comes from the party secret and the scope: a restarted party
    that replays a batch re-sends exactly what its peer already holds."""
    bodies = []
    for run in ("first", "replay"):
        pair = start_pair(tmp_path / run, WIDTH, ROWS)
        try:
            pair.exchange(random_batch(ROWS, P, P, WIDTH, seed=9), {"epoch": 1, "batch": 4})
        finally:
            pair.close()
        bodies.append(sorted((e.src, e.seq, e.body) for e in pair.hub.envelopes))
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("u_b", 300.0, "representations u_B"),  # |u| < 2^8
        ("u_a", 300.0, "representations u_A"),
        ("h_b", 300.0, "head inputs h_B"),  # |h| < 2^8
    ],
)
def test_encoding_refuses_values_beyond_the_bounds(
    tmp_path: Path, field: str, value: float, match: str
) -> None:
    batch = random_batch(ROWS, P, P, WIDTH)
    getattr(batch, field)[0, 0] = value
    pair = start_pair(tmp_path, WIDTH, ROWS)
    try:
        if field.endswith("_a"):
            with pytest.raises(CryptoError, match=match):
                pair.source.exchange(
                    pair.ctx[A].scoped(epoch=0, batch=0),
                    batch.h_a,
                    batch.u_a,
                    batch.labels,
                    batch.summary,
                )
        else:
            with pytest.raises(CryptoError, match=match):
                pair.target.exchange(pair.ctx[B].scoped(epoch=0, batch=0), batch.h_b, batch.u_b)
    finally:
        pair.close()


def test_a_large_alignment_weight_is_refused_at_encoding(tmp_path: Path) -> None:
    """|Q| = |−½yΦ − 2γu_A| < 2^12: γ = 1000 with |u_A| ~ 1 is past it."""
    batch = random_batch(ROWS, P, P, WIDTH)
    pair = start_pair(tmp_path, WIDTH, ROWS, gamma=1000.0)
    try:
        with pytest.raises(CryptoError, match="Q: magnitude"):
            pair.source.exchange(
                pair.ctx[A].scoped(epoch=0, batch=0),
                batch.h_a,
                batch.u_a,
                batch.labels,
                batch.summary,
            )
    finally:
        pair.close()


def test_a_batch_larger_than_the_layout_is_refused(tmp_path: Path) -> None:
    batch = random_batch(ROWS, P, P, WIDTH)
    pair = start_pair(tmp_path, WIDTH, ROWS - 1)
    try:
        with pytest.raises(CryptoError, match="sized for 39"):
            pair.target.exchange(pair.ctx[B].scoped(epoch=0, batch=0), batch.h_b, batch.u_b)
    finally:
        pair.close()


def test_small_peer_keys_and_mismatched_widths_are_refused(tmp_path: Path) -> None:
    """Production sides accept 2048-bit keys or more; both sides must agree on d."""
    with pytest.raises(ProtocolError, match="accepts 2048 bits or more"):
        start_pair(tmp_path / "keys", WIDTH, ROWS, min_key_bits=2048)
    with pytest.raises(ProtocolError, match=r"representation width [67], this party's is [67]"):
        start_pair(tmp_path / "widths", WIDTH, ROWS, target_width=WIDTH + 1)
