"""The doctor's pure parts: the version rule, the echo quota's window, the skew and
expiry verdicts (clocks injected, nothing timed)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from cryptography import x509

from coordinator.certs import init_pki
from coordinator.echo_quota import EchoQuota
from vfl.cli.doctor.check import CheckStatus
from vfl.cli.doctor.clock_check import check_skew
from vfl.cli.doctor.expiry_check import check_expiry
from vfl.protocol.version import Peer, refusal


def test_equal_protocols_agree_and_the_older_side_is_told_to_upgrade() -> None:
    coordinator, party = Peer("coordinator", 2, "0.3.0"), Peer("party", 1, "0.1.0")
    assert refusal(coordinator, Peer("party", 2, "0.3.1")) is None
    assert refusal(coordinator, party) == (
        "coordinator speaks protocol 2, this party 1: upgrade the party "
        "(to vfl 0.3.0, as the coordinator)"
    )
    assert refusal(Peer("coordinator", 1, "0.1.0"), Peer("party", 2, "0.3.0")) == (
        "coordinator speaks protocol 1, this party 2: upgrade the coordinator "
        "(to vfl 0.3.0, as the party)"
    )
    assert Peer.received("party", 0, "").protocol == 1  # a peer from before versions


def test_echo_quota_refuses_past_calls_or_bytes_and_renews_each_window() -> None:
    now = [0.0]
    quota = EchoQuota(calls=2, bytes_per_window=100, window_s=60, clock=lambda: now[0])
    assert quota.take("a", 10) is None and quota.take("a", 10) is None
    refused = quota.take("a", 10)
    assert refused is not None and "echo quota of a spent (2 calls, 100 bytes per 60 s)" in refused
    assert quota.take("b", 100) is None  # per caller
    assert quota.take("b", 1) is not None  # bytes spent
    now[0] = 60.0
    assert quota.take("a", 10) is None


def test_skew_passes_within_bounds_and_fails_beyond() -> None:
    assert check_skew(1000.0, 1001.0, 1000.2).status is CheckStatus.PASS
    behind = check_skew(1000.0, 900.0, 1000.2)
    assert behind.status is CheckStatus.FAIL
    assert "100.100 s behind this one" in behind.line


def test_expiry_warns_within_a_month_and_fails_once_expired(tmp_path: Path) -> None:
    init_pki(tmp_path, ["localhost"], ["a"], days=20)
    cert = x509.load_pem_x509_certificate((tmp_path / "a.pem").read_bytes())
    now = dt.datetime.now(dt.UTC)
    soon = check_expiry([("tls.cert a.pem", cert)], now)
    assert soon.status is CheckStatus.WARN and "renew it before then" in soon.line
    assert check_expiry([("tls.cert a.pem", cert)], now + dt.timedelta(days=21)).status is (
        CheckStatus.FAIL
    )
    assert check_expiry([], now).status is CheckStatus.SKIP


def test_the_doctor_command_loads_neither_torch_nor_pandas_until_a_party_is_checked() -> None:
    code = (
        "import sys, vfl.cli.doctor_cmd; "
        "assert 'torch' not in sys.modules and 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
