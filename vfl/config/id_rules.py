"""`align.normalize`: the ID clean-up rules, written once for every reader of IDs.

Both sides of PSI must turn the same ID into the same text, whether the IDs come from a
loaded dataset (parties/data) or are streamed from a CSV column (psi/ids.py, `vfl psi`),
so the rules live here and both call `IdRule.apply`.
"""

from __future__ import annotations

from enum import StrEnum


class IdRule(StrEnum):
    """One ID clean-up step; a spec lists them in the order they apply."""

    STRIP = "strip"
    """Remove surrounding whitespace."""
    LOWER = "lower"
    """Lower-case letters."""
    STRIP_LEADING_ZEROS = "strip_leading_zeros"
    """Remove leading '0's, keeping a lone 0 (`00123` → `123`, `000` → `0`); list it after
    `strip` for IDs such as ` 00123`."""

    def apply(self, value: str) -> str:
        if self is IdRule.STRIP:
            return value.strip()
        if self is IdRule.LOWER:
            return value.lower()
        return value.lstrip("0") or value[:1]
