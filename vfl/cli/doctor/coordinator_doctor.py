"""The coordinator's checks: its certificates (chain, names, expiry), its store, its
listening port, and the protocol it will require of parties."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from cryptography import x509

from vfl.cli.doctor.address import Address
from vfl.cli.doctor.cert_files_check import Expected, check_files
from vfl.cli.doctor.check import CheckResult, CheckStatus, failed, passed, skipped
from vfl.cli.doctor.expiry_check import check_expiry
from vfl.cli.doctor.store_check import check_store
from vfl.cli.doctor.tcp_check import reach
from vfl.config.coordinator_config import CoordinatorConfig
from vfl.protocol import version

ANY_HOST = ("0.0.0.0", "::", "")  # noqa: S104 (names the wildcard, binds nothing)


def coordinator_checks(
    config: CoordinatorConfig, source: str, clock: Callable[[], float] = time.time
) -> list[CheckResult]:
    listen = Address.parse(config.listen, f"{source} listen")
    results: list[CheckResult] = []
    if config.tls is not None:
        files, certs = check_files(config.tls, Expected("coordinator", "coordinator", source))
        results.append(files)
        if files.status is CheckStatus.PASS:
            results.append(_names_listen_host(certs[-1][1], listen))
        results.append(check_expiry(certs, dt.datetime.fromtimestamp(clock(), dt.UTC)))
    results.append(check_store(config.database, source))
    results.append(_listening(listen, source))
    me = version.local("coordinator")
    results.append(
        passed("versions", f"coordinator {me.label()}; parties must speak protocol {me.protocol}")
    )
    return results


def _names_listen_host(cert: x509.Certificate, listen: Address) -> CheckResult:
    """Parties dial a name the certificate carries; a specific listen host must be one."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return failed("tls names", "the certificate has no subject alternative names; reissue it")
    names = [str(n) for n in ext.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    carried = ", ".join(names)
    if listen.host in ANY_HOST or listen.host in names:
        return passed("tls names", f"parties may dial {carried}")
    return failed(
        "tls names",
        f"{listen.source} host {listen.host!r} is not among the certificate's names "
        f"({carried}); parties dialling it fail TLS: reissue with "
        f"`vfl certs init --coordinator {listen.host}`",
    )


def _listening(listen: Address, source: str) -> CheckResult:
    if listen.port == 0:
        return skipped("tcp", f"{source} listen port is 0 (chosen at start)")
    host = "127.0.0.1" if listen.host in ANY_HOST else listen.host
    local = Address(host, listen.port, listen.source)
    return reach(local, f"start `vfl coordinator serve --config {source}`")
