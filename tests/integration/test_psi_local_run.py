"""`vfl psi` and the local runner: each party in its own process, CSVs streamed."""

from __future__ import annotations

import random
import sys
import types
from pathlib import Path
from typing import Literal

import pytest

from parties.programs import program_for
from psi.local_run import Side, run_two_party
from psi.rr22.native import ENV_DIR
from tests.unit.psi.harness import needs_fastpsi
from vfl.cli.main import main
from vfl.config.job_spec import AlignSpec
from vfl.errors import DataValidationError


def _write(path: Path, ids: list[str]) -> Path:
    path.write_text("id,x\n" + "".join(f"{i},1\n" for i in ids))
    return path


def _sets(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    rng = random.Random(3)
    shared = [f"S{rng.getrandbits(48):x}" for _ in range(300)]
    left = shared + [f"L{i}" for i in range(700)]
    right = shared + [f"R{i}" for i in range(200)]
    rng.shuffle(left)
    rng.shuffle(right)
    return _write(tmp_path / "l.csv", left), _write(tmp_path / "r.csv", right), sorted(shared)


@pytest.mark.parametrize("protocol", ["ecdh", "rsa"])
def test_two_processes_write_the_same_aligned_ids(
    tmp_path: Path, protocol: Literal["ecdh", "rsa"]
) -> None:
    left, right, shared = _sets(tmp_path)
    lh, fh, wall = run_two_party(
        Side(left, "id"),
        Side(right, "id"),
        AlignSpec(protocol=protocol),
        tmp_path / "out",
        programs=program_for,
    )
    assert lh.intersection_size == fh.intersection_size == len(shared)
    for side in (lh, fh):
        assert side.aligned_ids is not None
        assert Path(side.aligned_ids).read_text().splitlines() == shared
    assert (lh.rows, fh.rows) == (1000, 500)
    assert lh.bytes_sent == fh.bytes_received and fh.bytes_sent == lh.bytes_received
    assert lh.peak_rss_bytes > 0 and wall > 0


def test_duplicates_in_a_file_fail_the_run_with_a_count(tmp_path: Path) -> None:
    left = _write(tmp_path / "l.csv", ["a", "b", "a"])
    right = _write(tmp_path / "r.csv", ["a"])
    with pytest.raises(DataValidationError, match="1 IDs repeat an earlier ID"):
        run_two_party(
            Side(left, "id"), Side(right, "id"), AlignSpec(), tmp_path / "out", programs=program_for
        )


def test_cli_prints_count_bytes_and_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    left, right, shared = _sets(tmp_path)
    out = tmp_path / "cli"
    assert main(["psi", "--left", f"{left}:id", "--right", str(right), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"shared IDs: {len(shared)}" in printed
    assert "bytes left->right:" in printed and "peak memory" in printed
    assert (out / "right" / "aligned_ids.txt").read_text().splitlines() == shared
    assert main(["psi", "--left", f"{left}:nope", "--right", str(right)]) == 2
    assert "ID column 'nope' not found" in capsys.readouterr().err


@needs_fastpsi
def test_cli_runs_rr22_to_the_plaintext_intersection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    left, right, shared = _sets(tmp_path)
    out = tmp_path / "cli"
    args = ["psi", "--protocol", "rr22", "--left", str(left), "--right", str(right)]
    assert main([*args, "--out", str(out)]) == 0
    assert f"shared IDs: {len(shared)}" in capsys.readouterr().out
    for side in ("left", "right"):
        assert (out / side / "aligned_ids.txt").read_text().splitlines() == shared


def test_cli_refuses_rr22_without_spu_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "no-spu-here"))
    left, right, _ = _sets(tmp_path)
    args = ["psi", "--protocol", "rr22", "--left", str(left), "--right", str(right)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "make fastpsi" in err and "rr22" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before any party process ran


def test_party_processes_never_run_the_parents_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's unguarded script, or a Streamlit app run in this process (the dashboards'
    page tests do), is `__main__`: multiprocessing's children re-ran it by path."""
    marker = tmp_path / "main-ran"
    script = tmp_path / "user_script.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('x')\nraise SystemExit(3)\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    left, right, shared = _sets(tmp_path)
    lh, _, _ = run_two_party(
        Side(left, "id"), Side(right, "id"), AlignSpec(), tmp_path / "out", programs=program_for
    )
    assert lh.intersection_size == len(shared)
    assert not marker.exists()
