"""The enrolment subcommands of `vfl certs` (see coordinator/authority.py and
coordinator/cert_request.py for what each side holds)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from coordinator.authority import CertificateAuthority
from coordinator.cert_request import install, make_request
from coordinator.certs import Role, write_cert
from vfl.errors import ConfigError

CA_HELP = "the CA operator's folder (ca.pem, ca.key, issued.json, crl.pem); keep it offline"


def register(inner: Any) -> None:
    ca = inner.add_parser("ca", help="the CA operator's commands")
    ca_inner = ca.add_subparsers(dest="ca_command", required=True)
    ca_init = ca_inner.add_parser("init", help="create the federation's CA (CA operator)")
    ca_init.add_argument("--ca", type=Path, required=True, help=CA_HELP)
    ca_init.add_argument("--days", type=int, default=3650, help="validity of the CA")
    ca_init.set_defaults(handler=run_ca_init)

    req = inner.add_parser("request", help="make a private key (0600) and a CSR, here")
    who = req.add_mutually_exclusive_group(required=True)
    who.add_argument("--party", help="this party's name (as in party.toml)")
    who.add_argument("--coordinator", help="the coordinator's host names or IPs, comma-separated")
    who.add_argument("--operator", action="store_true", help="an operator's certificate")
    req.add_argument("--out", type=Path, default=Path("certs"), help="folder (default: certs)")
    req.add_argument("--renew", action="store_true", help="a new key beside the live one")
    req.set_defaults(handler=run_request)

    sign = inner.add_parser("sign", help="sign a CSR after checking it (CA operator)")
    sign.add_argument("csr", type=Path)
    sign.add_argument("--ca", type=Path, required=True, help=CA_HELP)
    sign.add_argument(
        "--out", type=Path, help="certificate to write (default: NAME.pem beside CSR)"
    )
    sign.add_argument("--renew", action="store_true", help="the name has a live certificate")
    sign.add_argument("--days", type=int, default=825)
    sign.add_argument("--yes", action="store_true", help="do not ask (fingerprint checked already)")
    sign.set_defaults(handler=run_sign)

    inst = inner.add_parser("install", help="put a signed certificate in place with its key")
    inst.add_argument("cert", type=Path)
    inst.add_argument("--name", required=True, help="party name, coordinator or operator")
    inst.add_argument("--dir", type=Path, default=Path("certs"), help="folder of the key")
    inst.add_argument("--ca-cert", type=Path, help="the CA's certificate (default: DIR/ca.pem)")
    inst.set_defaults(handler=run_install)

    rev = inner.add_parser("revoke", help="revoke certificates and rewrite crl.pem (CA operator)")
    rev.add_argument("--ca", type=Path, required=True, help=CA_HELP)
    what = rev.add_mutually_exclusive_group(required=True)
    what.add_argument("--name", help="every live certificate of this name")
    what.add_argument("--serial", help="one certificate (hex, from `vfl certs list`)")
    rev.set_defaults(handler=run_revoke)

    lst = inner.add_parser("list", help="certificates issued by this CA")
    lst.add_argument("--ca", type=Path, required=True, help=CA_HELP)
    lst.set_defaults(handler=run_list)

    crl = inner.add_parser("crl", help="re-sign crl.pem (before it expires)")
    crl.add_argument("--ca", type=Path, required=True, help=CA_HELP)
    crl.set_defaults(handler=run_crl)


def run_ca_init(args: argparse.Namespace) -> int:
    CertificateAuthority.create(args.ca, args.days)
    print(f"CA written to {args.ca}: give ca.pem to every party and the coordinator; ")
    print("ca.key (0600) never leaves this folder; keep the folder offline")
    return 0


def run_request(args: argparse.Namespace) -> int:
    if args.coordinator:
        hosts = [h.strip() for h in args.coordinator.split(",") if h.strip()]
        made = make_request(args.out, "coordinator", Role.COORDINATOR, hosts, args.renew)
    elif args.operator:
        made = make_request(args.out, "operator", Role.OPERATOR, None, args.renew)
    else:
        made = make_request(args.out, args.party, Role.PARTY, None, args.renew)
    print(f"private key: {made.key} (0600; it never leaves this machine)")
    print(f"request:     {made.csr} (send this to the CA operator)")
    print(f"key fingerprint: {made.fingerprint}")
    print("tell the CA operator this fingerprint by a second channel (phone, in person)")
    return 0


def run_sign(args: argparse.Namespace) -> int:
    ca = CertificateAuthority(args.ca)
    try:
        pem = args.csr.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{args.csr}: cannot read ({exc.strerror})") from None
    request = ca.inspect(pem, str(args.csr))
    print(f"name:        {request.name}")
    print(f"role:        {request.role.value}")
    if request.hosts and request.role is Role.COORDINATOR:
        print(f"hosts:       {', '.join(request.hosts)}")
    print(f"fingerprint: {request.fingerprint}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("sign: compare the fingerprint with its owner, then pass --yes")
        if input("does the fingerprint match what its owner read to you? [y/N] ").lower() != "y":
            print("not signed")
            return 1
    cert = ca.sign(request, args.renew, args.days)
    out = args.out or args.csr.with_name(f"{request.name}.pem")
    write_cert(out, cert)
    print(f"signed {out} (serial {cert.serial_number:x}); send it with {args.ca / 'ca.pem'}")
    return 0


def run_install(args: argparse.Namespace) -> int:
    ca_path = args.ca_cert or args.dir / "ca.pem"
    try:
        cert_pem, ca_pem = args.cert.read_bytes(), ca_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{exc.filename}: cannot read ({exc.strerror})") from None
    target = install(args.dir, args.name, cert_pem, ca_pem)
    print(f"installed {target}; a running party node reconnects with it by itself")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    ca = CertificateAuthority(args.ca)
    for row in ca.revoke(name=args.name, serial=args.serial):
        print(f"revoked {row.name} serial {row.serial}")
    print(f"wrote {args.ca / 'crl.pem'}: copy it to the coordinator's [tls] crl path")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for row in CertificateAuthority(args.ca).issued():
        state = f"revoked {row.revoked[:19]}" if row.revoked else f"until {row.not_after[:10]}"
        print(f"{row.serial:>40}  {row.name:<20} {row.role:<12} {state}  {row.fingerprint}")
    return 0


def run_crl(args: argparse.Namespace) -> int:
    path = CertificateAuthority(args.ca).write_crl()
    print(f"wrote {path}: copy it to the coordinator's [tls] crl path")
    return 0
