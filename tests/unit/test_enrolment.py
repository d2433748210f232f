"""Enrolment: each key is made on its owner's machine; the CA operator signs a CSR after
seeing its name, role and key fingerprint, refuses a second live certificate for a name
unless renewing, revokes into a CA-signed CRL, and the coordinator's CRL file reloads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from coordinator.authority import CertificateAuthority
from coordinator.cert_request import install, make_request
from coordinator.certs import Role, identity_from_pem, subject
from vfl.cli.main import main
from vfl.crypto.sealing.revocation import CrlFile
from vfl.errors import ConfigError


def _private_keys(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if b"PRIVATE KEY" in p.read_bytes())


def test_request_sign_install_keeps_each_private_key_with_its_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca_dir, party = tmp_path / "ca", tmp_path / "hospital-machine" / "certs"
    assert main(["certs", "ca", "init", "--ca", str(ca_dir)]) == 0
    assert main(["certs", "request", "--party", "hospital", "--out", str(party)]) == 0
    said = capsys.readouterr().out
    assert stat.S_IMODE((party / "hospital.key").stat().st_mode) == 0o600
    csr = party / "hospital.csr"
    assert main(["certs", "sign", str(csr), "--ca", str(ca_dir), "--yes"]) == 0
    shown = capsys.readouterr().out
    assert "name:        hospital" in shown and "role:        party" in shown
    fingerprint = next(line.split(": ")[1] for line in said.splitlines() if "fingerprint" in line)
    assert fingerprint in shown  # what the party reads out is what the operator sees
    assert _private_keys(ca_dir) == ["ca.key"]  # the party's key never came here
    who = identity_from_pem((party / "hospital.pem").read_bytes())
    assert (who.name, who.role) == ("hospital", "party")
    (party / "ca.pem").write_bytes((ca_dir / "ca.pem").read_bytes())
    assert main(["certs", "install", str(party / "hospital.pem"), "--name", "hospital",
                 "--dir", str(party)]) == 0  # fmt: skip


def test_sign_refuses_an_issued_name_unless_renewing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    first = make_request(tmp_path / "p", "lab", Role.PARTY)
    ca.sign(ca.inspect(first.csr.read_bytes(), "lab.csr"), renew=False)
    again = make_request(tmp_path / "p", "lab", Role.PARTY, renew=True)
    argv = ["certs", "sign", str(again.csr), "--ca", str(tmp_path / "ca"), "--yes"]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "lab: already issued" in error and "--renew" in error
    assert main([*argv, "--renew"]) == 0
    # a renewal is installed with its new key; a certificate for another key is refused
    (tmp_path / "p" / "ca.pem").write_bytes((tmp_path / "ca" / "ca.pem").read_bytes())
    ca_pem = (tmp_path / "ca" / "ca.pem").read_bytes()
    install(tmp_path / "p", "lab", (tmp_path / "p" / "lab.pem").read_bytes(), ca_pem)
    assert not (tmp_path / "p" / "lab.renew.key").exists()
    other = make_request(tmp_path / "q", "lab", Role.PARTY)
    stray = ca.sign(ca.inspect(other.csr.read_bytes(), "x"), renew=True)
    with pytest.raises(ConfigError, match="matches neither"):
        install(tmp_path / "p", "lab", stray.public_bytes(serialization.Encoding.PEM), ca_pem)
    # once every certificate of a name is revoked, the name may be issued again
    ca.revoke(name="lab")
    third = make_request(tmp_path / "r", "lab", Role.PARTY)
    ca.sign(ca.inspect(third.csr.read_bytes(), "x"), renew=False)


def test_sign_refuses_bad_requests(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    key = ec.generate_private_key(ec.SECP256R1())

    def csr(name: str, role: str) -> bytes:
        built = x509.CertificateSigningRequestBuilder().subject_name(
            subject(name, Role.PARTY) if role == "party" else
            x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name),
                       x509.NameAttribute(x509.oid.NameOID.ORGANIZATIONAL_UNIT_NAME, role)])
        ).sign(key, hashes.SHA256())  # fmt: skip
        return built.public_bytes(serialization.Encoding.PEM)

    with pytest.raises(ConfigError, match="'ca' is invalid or reserved"):
        ca.inspect(csr("ca", "party"), "x.csr")
    with pytest.raises(ConfigError, match="one CN and one OU"):
        ca.inspect(csr("lab", "admin"), "x.csr")
    with pytest.raises(ConfigError, match="names its hosts"):
        ca.inspect(csr("coordinator", "coordinator"), "x.csr")
    with pytest.raises(ConfigError, match=r"x\.csr: not a PEM CSR"):
        ca.inspect(b"nonsense", "x.csr")
    good = csr("lab", "party")
    assert ca.inspect(good, "x.csr").name == "lab"
    # a CSR whose name was changed after its owner signed it: the signature no longer holds
    der = bytearray(x509.load_pem_x509_csr(good).public_bytes(serialization.Encoding.DER))
    at = der.find(b"lab")
    der[at : at + 3] = b"lub"
    forged = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(ConfigError, match="signature does not match"):
        ca.inspect(forged, "x.csr")


def test_coordinator_csr_carries_its_hosts(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    made = make_request(tmp_path / "c", "", Role.COORDINATOR, ["coord.example"])
    cert = ca.sign(ca.inspect(made.csr.read_bytes(), "c"), renew=False)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["coord.example"]
    assert identity_from_pem(cert.public_bytes(serialization.Encoding.PEM)).role == "coordinator"


def test_an_operator_csr_is_signed_and_a_party_may_not_take_the_name(tmp_path: Path) -> None:
    """`vfl certs request --operator` makes the one name a party may not have: the CA signs
    it for the operator role (it once refused it as reserved) and only for that role."""
    ca = CertificateAuthority.create(tmp_path / "ca")
    made = make_request(tmp_path / "o", "operator", Role.OPERATOR)
    cert = ca.sign(ca.inspect(made.csr.read_bytes(), "operator.csr"), renew=False)
    who = identity_from_pem(cert.public_bytes(serialization.Encoding.PEM))
    assert (who.name, who.role) == ("operator", "operator")
    key = ec.generate_private_key(ec.SECP256R1())
    party_named_operator = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject("operator", Role.PARTY))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(ConfigError, match="'operator' is invalid or reserved"):
        ca.inspect(party_named_operator, "x.csr")


def test_crl_file_reloads_on_change_and_keeps_the_last_good_list(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    made = make_request(tmp_path / "p", "lab", Role.PARTY)
    cert = ca.sign(ca.inspect(made.csr.read_bytes(), "x"), renew=False)
    held = CrlFile(tmp_path / "ca" / "crl.pem", (tmp_path / "ca" / "ca.pem").read_bytes())
    assert not held.current().revoked(cert.serial_number)
    ca.revoke(serial=format(cert.serial_number, "x"))
    assert held.current().revoked(cert.serial_number)  # no restart
    (tmp_path / "ca" / "crl.pem").write_bytes(b"garbage, or a half-copied file")
    assert held.current().revoked(cert.serial_number)
    with pytest.raises(ConfigError, match=r"tls\.crl"):
        CrlFile(tmp_path / "missing.pem", (tmp_path / "ca" / "ca.pem").read_bytes())


def test_certs_init_says_it_is_the_demo_shortcut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["certs", "init", "--out", str(tmp_path / "d"), "--coordinator", "127.0.0.1"]
    assert main([*argv, "--parties", "a"]) == 0
    assert "demo shortcut" in capsys.readouterr().out
    revoked = CertificateAuthority(tmp_path / "d").revoke(name="a")  # the demo can revoke too
    assert [r.name for r in revoked] == ["a"]
