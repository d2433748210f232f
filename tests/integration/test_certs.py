"""`vfl certs init` writes a CA and leaf certificates that carry each identity."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509

from coordinator.certs import identity_from_pem, init_pki
from vfl.cli.main import main
from vfl.errors import ConfigError


def test_certs_init_writes_identities_and_private_keys_0600(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    assert (
        main(
            [
                "certs",
                "init",
                "--out",
                str(out),
                "--coordinator",
                "127.0.0.1,coord.example",
                "--parties",
                "a,b",
            ]
        )
        == 0
    )
    ca = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    for name, role in (
        ("a", "party"),
        ("b", "party"),
        ("operator", "operator"),
        ("coordinator", "coordinator"),
    ):
        pem = (out / f"{name}.pem").read_bytes()
        assert identity_from_pem(pem).name == name
        assert identity_from_pem(pem).role == role
        x509.load_pem_x509_certificate(pem).verify_directly_issued_by(ca)
        assert stat.S_IMODE((out / f"{name}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "ca.key").stat().st_mode) == 0o600
    server = x509.load_pem_x509_certificate((out / "coordinator.pem").read_bytes())
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "coord.example" in sans.get_values_for_type(x509.DNSName)


def test_certs_init_refuses_reserved_names_and_existing_ca(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reserved"):
        init_pki(tmp_path / "x", ["localhost"], ["operator"])
    init_pki(tmp_path / "y", ["localhost"], ["a"])
    with pytest.raises(ConfigError, match="already exists"):
        init_pki(tmp_path / "y", ["localhost"], ["a"])
