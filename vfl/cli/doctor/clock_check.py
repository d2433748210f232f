"""Clock skew between this machine and the coordinator, from one Ping: the server's time
against the midpoint of the local send and receive times (error at most half the RTT)."""

from __future__ import annotations

from vfl.cli.doctor.check import CheckResult, failed, passed

NAME = "clock"
MAX_SKEW_S = 30.0
"""Beyond this, certificate validity and the operator's timelines disagree visibly."""


def check_skew(sent: float, server_time: float, received: float) -> CheckResult:
    """`sent`/`received` are this machine's clock around the Ping; all in epoch seconds."""
    skew = server_time - (sent + received) / 2
    bound = (received - sent) / 2
    way = "ahead of" if skew > 0 else "behind"
    line = f"the coordinator's clock is {abs(skew):.3f} s {way} this one (± {bound:.3f} s)"
    if abs(skew) > MAX_SKEW_S:
        return failed(NAME, f"{line}, over {MAX_SKEW_S:g} s; sync both machines with NTP")
    return passed(NAME, line)
