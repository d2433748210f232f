"""TCP reachability: does anything accept connections at host:port?"""

from __future__ import annotations

import socket

from vfl.cli.doctor.address import Address
from vfl.cli.doctor.check import CheckResult, failed, passed

NAME = "tcp"
TIMEOUT_S = 5.0


def reach(address: Address, fix: str) -> CheckResult:
    """`fix` is what to do when nothing answers (start the service, open the firewall)."""
    try:
        with socket.create_connection((address.host, address.port), timeout=TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return failed(NAME, f"cannot connect to {address} ({address.source}): {why}; {fix}")
    return passed(NAME, f"{address} accepts connections")
