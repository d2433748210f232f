"""RSA-PSI refuses the two cheap ways to turn it against the other side.

- A client that declares a small set (so that it is the client) and then sends more
  blinded values gets more signatures than IDs: unblinded guesses come back as tags it can
  test against the signer's. The signer signs at most the declared count.
- A signer with a short modulus: whoever factors it unblinds the client's values. The
  client refuses a key under 2048 bits (psi.rsa.keys.MIN_BITS) or under `align.key_bits`.
Each attack runs against the real honest program, with a control showing the same hostile
peer gets through when it stays within the rules, so the tests fail if a check goes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa

from psi.chunks import recv_rows, send_rows
from psi.ids import CsvIds, IdSource
from psi.messages import AlignCheck, Selection
from psi.rsa import label_holder
from psi.rsa.feature_holder import RsaFeatureHolder
from psi.rsa.keys import EXPONENT, MIN_BITS, TAG_BYTES, PrivateKey, PublicKey
from psi.rsa.label_holder import RsaLabelHolder
from psi.rsa.messages import Blinded, Matches, PublicKeyMsg, SetSize, Signed, Tags
from tests.unit.psi.harness import oracle, run_psi
from vfl.config.job_spec import AlignSpec, vertical
from vfl.errors import ConfigError, ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.events import AlignReport
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyFailedError

SIGNER = [f"patient-{i:03d}" for i in range(20)]


class _GreedyClient(Program):
    """A feature holder that declares `declared` IDs, then sends `sent` unblinded guesses
    (FDH of IDs it wants to test) and counts how many the signer's tags confirm."""

    phase = "align"

    def __init__(self, declared: int, guesses: list[str]) -> None:
        self.declared = declared
        self.guesses = guesses
        self.confirmed = -1

    def run(self, ctx: PartyContext) -> None:
        lh = vertical(ctx.job).label_holder.name
        ctx.send(lh, AlignCheck(False, b""))
        ctx.recv(lh, AlignCheck)
        ctx.send(lh, SetSize(self.declared))
        ctx.recv(lh, SetSize)
        msg = ctx.recv(lh, PublicKeyMsg)
        pub = PublicKey(int.from_bytes(msg.modulus, "big"), msg.exponent)
        values = b"".join(pub.fdh(g).to_bytes(pub.size, "big") for g in self.guesses)
        send_rows(ctx, lh, Blinded, np.frombuffer(values, np.uint8).reshape(-1, pub.size))
        signed = recv_rows(ctx, lh, Signed, pub.size)
        tags = {bytes(t) for t in recv_rows(ctx, lh, Tags, TAG_BYTES)}
        sigs = [int.from_bytes(bytes(row), "big") for row in signed]
        self.confirmed = sum(pub.tag(s) in tags for s in sigs)
        send_rows(ctx, lh, Matches, np.zeros((0, 16), np.uint8))
        recv_rows(ctx, lh, Selection, 8)
        ctx.report(AlignReport(rows=self.declared, intersection_size=0, protocol="rsa"))


def _run_against_greedy(tmp_path: Path, client: _GreedyClient) -> None:
    def factory(role: str, source: IdSource, workers: int | None = 1) -> Program:
        return RsaLabelHolder(source, workers) if role == "label_holder" else client

    sets = {"bank": SIGNER, "shop": [f"x{i}" for i in range(client.declared)]}
    run_psi(sets, tmp_path, factory=factory, protocol="rsa")


def test_signer_signs_as_many_values_as_the_client_declared(tmp_path: Path) -> None:
    client = _GreedyClient(declared=3, guesses=SIGNER[:3])
    _run_against_greedy(tmp_path, client)
    assert client.confirmed == 3  # the control: within its declared size it is served


def test_signer_refuses_more_blinded_values_than_the_client_declared(tmp_path: Path) -> None:
    client = _GreedyClient(declared=3, guesses=SIGNER)  # tests all 20 against 3 declared
    with pytest.raises(PartyFailedError) as exc:
        _run_against_greedy(tmp_path, client)
    assert exc.value.party == "bank"
    assert isinstance(exc.value.cause, ProtocolError)
    assert str(exc.value.cause) == (
        "rsa.Blinded from shop: announces 20 rows, more than the 3 IDs its rsa.SetSize "
        "declared; refusing to sign them"
    )
    assert client.confirmed == -1  # nothing was signed


def _key(bits: int) -> PrivateKey:
    """A signer key of any size: what a careless or hostile signer could use."""
    numbers = crypto_rsa.generate_private_key(EXPONENT, bits).private_numbers()
    pub = PublicKey(numbers.public_numbers.n, numbers.public_numbers.e)
    return PrivateKey(pub, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp)


def _run_with_signer_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bits: int, spec_bits: int = 2048
) -> list[str] | None:
    key = _key(bits)
    monkeypatch.setattr(label_holder, "job_key", lambda *_: key)  # the label holder signs
    sets = {"bank": SIGNER, "shop": [*SIGNER[::3], "shop-only"]}

    def factory(role: str, source: IdSource, workers: int | None = 1) -> Program:
        if role == "label_holder":
            return RsaLabelHolder(source, workers)
        return RsaFeatureHolder(source, workers)

    out = run_psi(sets, tmp_path, factory=factory, protocol="rsa", key_bits=spec_bits)
    assert out.aligned["bank"] == oracle(sets)
    return out.aligned["shop"]


def test_client_accepts_a_2048_bit_signer_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run_with_signer_key(tmp_path, monkeypatch, 2048) == sorted(SIGNER[::3])


@pytest.mark.parametrize(("bits", "spec_bits"), [(1024, 2048), (2048, 3072)])
def test_client_refuses_a_signer_key_below_the_minimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bits: int, spec_bits: int
) -> None:
    with pytest.raises(PartyFailedError) as exc:
        _run_with_signer_key(tmp_path, monkeypatch, bits, spec_bits)
    assert exc.value.party == "shop"
    assert isinstance(exc.value.cause, ProtocolError)
    message = str(exc.value.cause)
    assert message.startswith(f"rsa.PublicKey from bank: RSA key of {bits} bits")
    assert f">= {spec_bits} bits" in message


def test_the_minimum_is_2048_bits_for_every_caller() -> None:
    assert MIN_BITS == 2048
    with pytest.raises(ConfigError, match="at least 2048 bits"):
        PrivateKey.generate(1024)
    with pytest.raises(ValueError, match="greater than or equal to 2048"):
        AlignSpec(protocol="rsa", key_bits=1024)
    with pytest.raises(TypeError):
        RsaLabelHolder(None, 1, key_bits=1024)  # type: ignore[call-arg]


def test_csv_size_hint_counts_a_last_line_without_a_line_break(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("id\na\nb")  # RSA declares this count: it may not be short
    assert CsvIds(path, "id").size_hint() == 2
    path.write_text("id\na\nb\n\n")
    assert CsvIds(path, "id").size_hint() >= 2
