"""Name resolution: does the coordinator's host name resolve here?"""

from __future__ import annotations

import socket

from vfl.cli.doctor.address import Address
from vfl.cli.doctor.check import CheckResult, failed, passed

NAME = "dns"


def resolve(address: Address) -> tuple[CheckResult, list[str]]:
    """The verdict and the addresses found (empty on failure)."""
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return failed(
            NAME,
            f"cannot resolve {address.host!r} ({address.source}): {exc.strerror}; fix the "
            "host name, or its DNS record or /etc/hosts entry",
        ), []
    found = sorted({str(info[4][0]) for info in infos})
    return passed(NAME, f"{address.host} resolves to {', '.join(found)}"), found
