"""The result of one doctor check and how it prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class CheckStatus(StrEnum):
    """A check passed, passed with a warning, failed, or could not run (an earlier failed)."""

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict and the line that says what was found and what to do."""

    check: str
    """Short name: dns, tcp, tls, ..."""
    status: CheckStatus
    line: str
    """One line: what was found and, unless it passed, the fix."""

    def render(self) -> str:
        return f"[{self.status}] {self.check}: {self.line}"


def passed(check: str, line: str) -> CheckResult:
    return CheckResult(check, CheckStatus.PASS, line)


def failed(check: str, line: str) -> CheckResult:
    return CheckResult(check, CheckStatus.FAIL, line)


def skipped(check: str, because: str) -> CheckResult:
    return CheckResult(check, CheckStatus.SKIP, f"not checked: {because}")


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when any check failed (a run-time failure, as the CLI's other commands)."""
    return 1 if any(r.status is CheckStatus.FAIL for r in results) else 0
