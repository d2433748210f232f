"""The link's round-trip time and throughput, measured with the coordinator's bounded echo.

Round trip: the median of a few small echoes. Throughput: bytes sent plus bytes received
over a few 1 MiB echoes, divided by their time. Together 4 MiB and 9 calls, inside the
coordinator's echo quota (coordinator/echo_quota.py).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import grpc

from vfl.cli.doctor.check import CheckResult, failed, passed
from vfl.cli.doctor.diagnose_client import DiagnoseClient, rpc_failure

NAME = "relay"
SMALL = 64
PINGS = 5
BULK = 4


def check_relay(
    client: DiagnoseClient, max_bytes: int, timer: Callable[[], float] = time.perf_counter
) -> CheckResult:
    size = min(max_bytes or 1 << 20, 1 << 20)
    try:
        rtts = []
        for _ in range(PINGS):
            start = timer()
            _expect_same(client, os.urandom(SMALL))
            rtts.append(timer() - start)
        start = timer()
        for _ in range(BULK):
            _expect_same(client, os.urandom(size))
        bulk_s = max(timer() - start, 1e-9)
    except grpc.RpcError as exc:
        return failed(NAME, f"echo through the coordinator failed ({rpc_failure(exc)})")
    except ValueError as exc:
        return failed(NAME, str(exc))
    mib_s = 2 * BULK * size / bulk_s / (1 << 20)
    return passed(
        NAME,
        f"round trip {statistics.median(rtts) * 1000:.1f} ms, throughput {mib_s:.1f} MiB/s "
        f"({BULK} x {size >> 10} KiB each way)",
    )


def _expect_same(client: DiagnoseClient, payload: bytes) -> None:
    if client.echo(payload) != payload:
        raise ValueError("the echo came back altered; something between rewrites traffic")
