"""Certificate validity: not expired, not yet-to-come, and not expiring within a month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509

from vfl.cli.doctor.check import CheckResult, CheckStatus, failed, passed

NAME = "cert expiry"
WARN_DAYS = 30


def check_expiry(certs: Sequence[tuple[str, x509.Certificate]], now: dt.datetime) -> CheckResult:
    """`certs` are labelled by where they came from (tls.cert a.pem, coordinator's)."""
    if not certs:
        return CheckResult(NAME, CheckStatus.SKIP, "not checked: no certificate could be read")
    soonest: tuple[float, str] | None = None
    for label, cert in certs:
        after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
        if now > after:
            return failed(
                NAME,
                f"{label} expired on {after:%Y-%m-%d %H:%M} UTC; issue a new certificate "
                "from the federation's CA",
            )
        if now < before:
            return failed(
                NAME,
                f"{label} is valid only from {before:%Y-%m-%d %H:%M} UTC, after this "
                "machine's clock; fix the clock (NTP) or the certificate",
            )
        days = (after - now).total_seconds() / 86_400
        if soonest is None or days < soonest[0]:
            soonest = (days, label)
    assert soonest is not None
    days, label = soonest
    line = f"all {len(certs)} valid; the first to expire is {label} in {days:.0f} days"
    if days < WARN_DAYS:
        return CheckResult(NAME, CheckStatus.WARN, f"{line}; renew it before then")
    return passed(NAME, line)
