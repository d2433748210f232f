"""Byte counts as people read them, the same in the CLI and the dashboards."""

from __future__ import annotations


def size(nbytes: int) -> str:
    """1500 -> '1.5 KB' (decimal units, as network and disk figures are quoted)."""
    value = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
