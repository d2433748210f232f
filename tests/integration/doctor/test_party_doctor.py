"""`vfl doctor --party`: every check passes on a healthy federation and each fails, with
its one line, on the setup that breaks it. Real coordinator, real mTLS, real sockets."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from coordinator.diagnose_servicer import DiagnoseServicer
from coordinator.echo_quota import EchoQuota
from tests.integration.doctor.setup import coordinator, diagnose_only, party_toml, pki
from vfl.cli.doctor.check import CheckResult, CheckStatus
from vfl.cli.doctor.party_doctor import party_checks
from vfl.cli.main import main
from vfl.config.party_config import load_party_config
from vfl.protocol.version import PROTOCOL, Peer

ALL = ["tls files", "dns", "tcp", "tls", "cert expiry", "clock", "versions", "relay"]


def _run(path: Path, clock: float = 0.0) -> dict[str, CheckResult]:
    results = party_checks(load_party_config(path), str(path), lambda: time.time() + clock)
    return {r.check: r for r in results}


def _statuses(found: dict[str, CheckResult]) -> dict[str, CheckStatus]:
    return {name: r.status for name, r in found.items()}


def test_healthy_party_passes_every_check_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = pki(tmp_path)
    with coordinator(tmp_path, certs) as server:
        path = party_toml(tmp_path, server.address, certs)
        assert main(["doctor", "--party", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("]")[0] for line in lines] == ["[pass"] * (len(ALL) + 1)
    assert any("dataset customers: 2 rows, 3 columns, all 2 declared present" in x for x in lines)
    assert any("versions: party vfl" in x and "compatible" in x for x in lines)


def test_unresolvable_name_fails_dns_and_skips_what_needs_it(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    found = _run(party_toml(tmp_path, "nonexistent.invalid:50051", certs))
    assert found["dns"].status is CheckStatus.FAIL
    assert "cannot resolve 'nonexistent.invalid'" in found["dns"].line
    assert "party.toml coordinator" in found["dns"].line
    for name in ("tcp", "tls", "clock", "versions", "relay"):
        assert found[name].status is CheckStatus.SKIP
    assert found["dataset customers"].status is CheckStatus.PASS  # not hidden by the network


def test_closed_port_fails_tcp(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = _run(party_toml(tmp_path, f"127.0.0.1:{port}", certs))
    assert found["tcp"].status is CheckStatus.FAIL
    assert f"cannot connect to 127.0.0.1:{port}" in found["tcp"].line
    assert "is the coordinator running" in found["tcp"].line


def test_coordinator_from_another_ca_fails_tls(tmp_path: Path) -> None:
    theirs = pki(tmp_path / "theirs")
    mine = pki(tmp_path / "mine")
    with coordinator(tmp_path, theirs) as server:
        found = _run(party_toml(tmp_path, server.address, mine))
    assert found["tls files"].status is CheckStatus.PASS
    assert found["tls"].status is CheckStatus.FAIL
    assert "does not verify against tls.ca" in found["tls"].line
    assert "use the federation's ca.pem" in found["tls"].line


def test_coordinator_certificate_without_the_dialled_name_fails_tls(tmp_path: Path) -> None:
    certs = pki(tmp_path, hosts=("localhost",))
    with coordinator(tmp_path, certs) as server:
        found = _run(party_toml(tmp_path, f"127.0.0.1:{server.port}", certs))
    assert found["tls"].status is CheckStatus.FAIL
    assert "does not name '127.0.0.1'" in found["tls"].line
    assert "vfl certs init --coordinator 127.0.0.1" in found["tls"].line


def test_key_of_another_certificate_fails_tls_files(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    found = _run(party_toml(tmp_path, "127.0.0.1:1", certs, key="b"))
    assert found["tls files"].status is CheckStatus.FAIL
    assert "b.key does not belong to tls.cert" in found["tls files"].line
    assert "BEGIN" not in found["tls files"].line  # never a key's bytes


def test_certificate_of_another_party_fails_tls_files(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    found = _run(party_toml(tmp_path, "127.0.0.1:1", certs, cert="b", key="b"))
    assert found["tls files"].status is CheckStatus.FAIL
    assert "is party 'b', expected party 'a'" in found["tls files"].line


def test_expired_certificates_fail_expiry(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    with coordinator(tmp_path, certs) as server:
        # this machine's clock seen 900 days on: past the 825-day certificates
        found = _run(party_toml(tmp_path, server.address, certs), clock=900 * 86_400)
    assert found["cert expiry"].status is CheckStatus.FAIL
    assert "expired on" in found["cert expiry"].line
    assert "issue a new certificate" in found["cert expiry"].line


def test_skewed_clock_fails_clock(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    with coordinator(tmp_path, certs) as server:
        found = _run(party_toml(tmp_path, server.address, certs), clock=-120)
    assert found["clock"].status is CheckStatus.FAIL
    assert "clock is 120" in found["clock"].line and "ahead of this one" in found["clock"].line
    assert "NTP" in found["clock"].line
    assert found["cert expiry"].status is CheckStatus.PASS


def test_coordinator_of_another_protocol_fails_versions(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    ahead = PROTOCOL + 1
    servicer = DiagnoseServicer(insecure=False, speaks=Peer("coordinator", ahead, "0.9.0"))
    with diagnose_only(certs, servicer) as port:
        found = _run(party_toml(tmp_path, f"127.0.0.1:{port}", certs))
    assert found["versions"].status is CheckStatus.FAIL
    assert found["versions"].line == (
        f"coordinator speaks protocol {ahead}, this party {PROTOCOL}: upgrade the party "
        "(to vfl 0.9.0, as the coordinator)"
    )


def test_spent_echo_quota_fails_relay(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    servicer = DiagnoseServicer(insecure=False, quota=EchoQuota(calls=3))
    with diagnose_only(certs, servicer) as port:
        found = _run(party_toml(tmp_path, f"127.0.0.1:{port}", certs))
    assert found["versions"].status is CheckStatus.PASS
    assert found["relay"].status is CheckStatus.FAIL
    assert "RESOURCE_EXHAUSTED: echo quota of a spent (3 calls" in found["relay"].line


def test_missing_declared_column_fails_dataset(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    found = _run(party_toml(tmp_path, "nonexistent.invalid:1", certs, columns='["age", "zip"]'))
    line = found["dataset customers"].line
    assert found["dataset customers"].status is CheckStatus.FAIL
    assert "datasets[0]: column 'zip' declared in columns but not in the source" in line
    assert "(columns: id, age, income)" in line and "fix datasets[0].columns" in line


def test_unreadable_source_fails_dataset(tmp_path: Path) -> None:
    certs = pki(tmp_path)
    found = _run(party_toml(tmp_path, "nonexistent.invalid:1", certs, source="gone.csv"))
    assert found["dataset customers"].status is CheckStatus.FAIL
    assert "gone.csv: file not found" in found["dataset customers"].line
    assert "fix datasets[0].source" in found["dataset customers"].line


def test_cli_exits_1_and_prints_one_line_per_check_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = pki(tmp_path)
    path = party_toml(tmp_path, "nonexistent.invalid:50051", certs)
    assert main(["doctor", "--party", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ALL) + 1
    assert lines[1].startswith("[fail] dns: cannot resolve 'nonexistent.invalid'")


def test_insecure_loopback_party_skips_tls_and_still_checks_the_coordinator(
    tmp_path: Path,
) -> None:
    with coordinator(tmp_path, None) as server:
        path = tmp_path / "party.toml"
        (tmp_path / "a.csv").write_text("id,age\nu1,3\n")
        path.write_text(
            f'name = "a"\ncoordinator = "{server.address}"\ninsecure = true\n'
            '[[datasets]]\nname = "customers"\nsource = "a.csv"\n'
        )
        found = _run(path)
    assert "tls files" not in found and "cert expiry" not in found
    assert found["tls"].status is CheckStatus.SKIP and "insecure" in found["tls"].line
    for name in ("dns", "tcp", "clock", "versions", "relay", "dataset customers"):
        assert found[name].status is CheckStatus.PASS, found[name].line
