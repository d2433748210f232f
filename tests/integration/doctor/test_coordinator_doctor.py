"""`vfl doctor --coordinator`: certificates, store at the newest migration, listening
port; each passes on a serving coordinator and fails with its line when broken."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.doctor.setup import coordinator, pki
from vfl.cli.doctor.check import CheckResult, CheckStatus
from vfl.cli.doctor.coordinator_doctor import coordinator_checks
from vfl.cli.main import main
from vfl.config.coordinator_config import load_coordinator_config


def _toml(root: Path, listen: str, cert: str = "coordinator", db: str = "coordinator.db") -> Path:
    path = root / "coordinator.toml"
    path.write_text(
        f'listen = "{listen}"\ndatabase = "sqlite:///{db}"\n'
        f'[tls]\nca = "certs/ca.pem"\ncert = "certs/{cert}.pem"\nkey = "certs/{cert}.key"\n'
    )
    return path


def _run(path: Path) -> dict[str, CheckResult]:
    return {r.check: r for r in coordinator_checks(load_coordinator_config(path), str(path))}


def test_serving_coordinator_passes_every_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = pki(tmp_path)
    with coordinator(tmp_path, certs) as server:
        path = _toml(tmp_path, f"127.0.0.1:{server.port}")
        assert main(["doctor", "--coordinator", str(path)]) == 0
    out = capsys.readouterr().out
    checks = ["tls files", "tls names", "cert expiry", "store", "tcp", "versions"]
    assert [line.split(": ")[0] for line in out.splitlines()] == [f"[pass] {c}" for c in checks]
    assert "schema at migration" in out


def test_stopped_coordinator_fails_tcp_with_the_command_to_start_it(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    with coordinator(tmp_path, certs) as server:
        port = server.port
    found = _run(_toml(tmp_path, f"127.0.0.1:{port}"))
    assert found["tcp"].status is CheckStatus.FAIL
    assert "start `vfl coordinator serve --config" in found["tcp"].line
    assert found["store"].status is CheckStatus.PASS


def test_missing_or_old_store_fails_store(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    missing = _run(_toml(tmp_path, "127.0.0.1:0", db="nowhere.db"))
    assert missing["store"].status is CheckStatus.FAIL
    assert "does not exist" in missing["store"].line
    with coordinator(tmp_path, certs):
        pass
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'coordinator.db'}")
    with engine.begin() as conn:  # as if made by an older vfl
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    old = _run(_toml(tmp_path, "127.0.0.1:0"))
    assert old["store"].status is CheckStatus.FAIL
    assert "is at migration 0001, the code needs" in old["store"].line
    assert old["tcp"].status is CheckStatus.SKIP  # port 0: chosen at start


def test_listen_host_missing_from_the_certificate_fails_tls_names(tmp_path: Path) -> None:
    pki(tmp_path, hosts=("coord.example",))
    found = _run(_toml(tmp_path, "10.9.8.7:50051"))
    assert found["tls names"].status is CheckStatus.FAIL
    assert "host '10.9.8.7' is not among the certificate's names (coord.example)" in (
        found["tls names"].line
    )


def test_party_certificate_in_place_of_the_coordinator_fails_tls_files(tmp_path: Path) -> None:
    pki(tmp_path)
    found = _run(_toml(tmp_path, "127.0.0.1:0", cert="a"))
    assert found["tls files"].status is CheckStatus.FAIL
    assert "is party 'a', expected coordinator 'coordinator'" in found["tls files"].line
