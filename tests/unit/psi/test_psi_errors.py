"""Bad IDs are data errors with counts; a misbehaving peer is a protocol error."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest

from psi.chunks import recv_rows, send_rows
from psi.ecdh.group import hash_and_blind
from psi.ecdh.label_holder import EcdhLabelHolder
from psi.ecdh.messages import Blinded
from psi.ids import CsvIds, MemoryIds
from psi.messages import AlignCheck
from psi.parallel import GroupPool
from tests.unit.psi.harness import run_psi
from vfl.config.job_spec import AlignSpec, vertical
from vfl.errors import ConfigError, DataValidationError, ProtocolError
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program
from vfl.runtime.simulator import PartyFailedError


def _cause(exc: pytest.ExceptionInfo[PartyFailedError]) -> BaseException:
    return exc.value.cause


@pytest.mark.parametrize("factory", ["ecdh", "rsa"])
def test_duplicate_ids_are_an_error_with_a_count(tmp_path: Path, factory: str) -> None:
    from tests.unit.psi import harness  # noqa: PLC0415

    sets = {"lh": ["a", "b", "a", "c", "b", "a"], "fh": ["a", "x"]}
    with pytest.raises(PartyFailedError) as exc:
        run_psi(sets, tmp_path, factory=getattr(harness, factory))
    cause = _cause(exc)
    assert isinstance(cause, DataValidationError)
    assert "3 IDs repeat an earlier ID" in str(cause)
    assert "lh.csv[id]" in str(cause)
    assert "'a'" not in str(cause)  # never an ID in a message


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("", "is blank"),
        ("a\nb", "line break"),
        ("a\u2028b", "line break"),
        ("x" * 70_000, "at most"),
        ("\ud800", "not valid Unicode"),
    ],
)
def test_malformed_ids_are_rejected_with_the_row(bad: str, fragment: str) -> None:
    source = MemoryIds("f.csv[id]", ["ok", "fine", bad])
    with pytest.raises(DataValidationError, match=fragment) as exc:
        list(source.chunks())
    assert "data row 3" in str(exc.value)


def test_csv_source_reads_ids_as_text_and_normalises(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("id,x\n007,1\n Ab ,2\n12345678901234567890,3\n")
    source = CsvIds(path, "id", ["strip", "lower"])
    assert [i for c in source.chunks(2) for i in c] == ["007", "ab", "12345678901234567890"]
    assert source.select(np.array([2, 0], dtype=np.int64)) == ["12345678901234567890", "007"]
    assert source.size_hint() == 3


def test_csv_source_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("customer,x\n1,2\n")
    with pytest.raises(
        DataValidationError, match=r"ID column 'id' not found \(columns: customer, x\)"
    ):
        CsvIds(path, "id")


def test_csv_source_blank_id_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("id,x\na,1\n,2\n")
    with pytest.raises(DataValidationError, match="data row 2 is blank"):
        list(CsvIds(path, "id").chunks())


def test_rsa_cardinality_only_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="cardinality_only needs protocol 'ecdh'"):
        AlignSpec(protocol="rsa", cardinality_only=True)
    with pytest.raises(ConfigError):
        from psi.rsa.keys import PrivateKey  # noqa: PLC0415

        PrivateKey.generate(1024)


class _GarbagePeer(Program):
    """A feature holder that sends 32-byte values that are not Curve25519 points."""

    phase = "align"

    def run(self, ctx: PartyContext) -> None:
        lh = vertical(ctx.job).label_holder.name
        ctx.send(lh, AlignCheck(False, b""))
        ctx.recv(lh, AlignCheck)
        recv_rows(ctx, lh, Blinded, 32)
        garbage = np.full((3, 32), 0xFF, dtype=np.uint8)
        garbage[:, 0] = [1, 2, 3]  # distinct, so only the group-element check can catch them
        send_rows(ctx, lh, Blinded, garbage)


def test_invalid_points_from_a_peer_are_a_protocol_error(tmp_path: Path) -> None:
    def factory(role: str, source: MemoryIds, workers: int | None = 1) -> Program:
        return EcdhLabelHolder(source, workers) if role == "label_holder" else _GarbagePeer()

    with pytest.raises(PartyFailedError) as exc:
        run_psi({"lh": ["a", "b"], "fh": ["a"]}, tmp_path, factory=factory)
    assert exc.value.party == "lh"
    assert isinstance(_cause(exc), ProtocolError)
    assert "3 of 3 received values are not points of the curve" in str(_cause(exc))


def test_pool_runs_inline_for_one_task() -> None:
    with GroupPool(2) as pool:
        assert list(pool.map(abs, [-3])) == [3]
        assert pool._pool is None
        # more tasks run in the worker subprocesses, which run only `psi.` functions
        blind = partial(hash_and_blind, scalar=bytes(range(1, 33)))
        chunks = [["a"], ["b", "c"], ["d"]]
        assert list(pool.map(blind, chunks)) == [blind(chunk) for chunk in chunks]
        assert pool._pool is not None
