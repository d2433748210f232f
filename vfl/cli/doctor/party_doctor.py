"""The party's checks, in the order a connection needs them: a failure skips the checks
that depend on it (with a line saying so) and never hides the ones that do not."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import grpc
from cryptography import x509

from vfl.cli.doctor import clock_check, relay_check, version_check
from vfl.cli.doctor.address import Address
from vfl.cli.doctor.cert_files_check import Expected, check_files
from vfl.cli.doctor.check import CheckResult, CheckStatus, failed, skipped
from vfl.cli.doctor.datasets_check import check_dataset
from vfl.cli.doctor.diagnose_client import DiagnoseClient, rpc_failure
from vfl.cli.doctor.dns_check import resolve
from vfl.cli.doctor.expiry_check import check_expiry
from vfl.cli.doctor.tcp_check import reach
from vfl.cli.doctor.tls_check import handshake
from vfl.config.party_config import PartyConfig

Clock = Callable[[], float]


def party_checks(config: PartyConfig, source: str, clock: Clock = time.time) -> list[CheckResult]:
    """Every check for the party in `config` (read from `source`); `clock` is a seam."""
    address = Address.parse(config.coordinator, f"{source} coordinator")
    results: list[CheckResult] = []
    certs: list[tuple[str, x509.Certificate]] = []
    files_ok = True
    if config.tls is not None:
        files, certs = check_files(config.tls, Expected(config.name, "party", source))
        results.append(files)
        files_ok = files.status is CheckStatus.PASS
    dns, _ = resolve(address)
    results.append(dns)
    network = _network(config, address, dns, files_ok)
    results += network.results
    if network.peer_cert is not None:
        certs.append(("the coordinator's certificate", network.peer_cert))
    if config.tls is not None:
        results.append(check_expiry(certs, dt.datetime.fromtimestamp(clock(), dt.UTC)))
    results += _diagnose(config, network.blocked, clock)
    results += [check_dataset(config.name, i, d, source) for i, d in enumerate(config.datasets)]
    return results


class _Network:
    """DNS → TCP → TLS outcomes and the coordinator's certificate."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []
        self.blocked = "the coordinator is not reachable"
        """Why the Diagnose calls cannot run; empty once a connection works."""
        self.peer_cert: x509.Certificate | None = None


def _network(config: PartyConfig, address: Address, dns: CheckResult, files_ok: bool) -> _Network:
    out = _Network()
    if dns.status is CheckStatus.FAIL:
        out.results += [skipped("tcp", "the name did not resolve"), skipped("tls", "no address")]
        return out
    tcp = reach(address, "is the coordinator running, and does the firewall let this machine out?")
    out.results.append(tcp)
    if tcp.status is CheckStatus.FAIL:
        out.results.append(skipped("tls", "no TCP connection"))
        return out
    if config.tls is None:
        out.results.append(skipped("tls", "insecure = true (loopback development)"))
        out.blocked = ""
        return out
    out.blocked = "no TLS connection to the coordinator (see above)"
    if not files_ok:
        out.results.append(skipped("tls", "this party's TLS files failed"))
        return out
    tls, out.peer_cert = handshake(address, config.tls)
    out.results.append(tls)
    if tls.status is CheckStatus.PASS:
        out.blocked = ""
    return out


def _diagnose(config: PartyConfig, blocked: str, clock: Clock) -> list[CheckResult]:
    names = (clock_check.NAME, version_check.NAME, relay_check.NAME)
    if blocked:
        return [skipped(n, blocked) for n in names]
    client = DiagnoseClient(config)
    try:
        sent = clock()
        try:
            reply = client.ping()
        except grpc.RpcError as exc:
            line = f"Ping refused or failed ({rpc_failure(exc)})"
            return [
                failed(names[0], line),
                skipped(names[1], "no Ping"),
                skipped(names[2], "no Ping"),
            ]
        received = clock()
        return [
            clock_check.check_skew(sent, reply.server_time, received),
            version_check.check_versions(reply),
            relay_check.check_relay(client, reply.max_echo_bytes),
        ]
    finally:
        client.close()
