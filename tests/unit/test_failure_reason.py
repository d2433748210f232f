"""A failed result always says why: an error with a blank message is named by its class."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl import api
from vfl.config.job_spec import JobSpec
from vfl.config.phase_plan import Phase
from vfl.errors import failure_reason
from vfl.runtime.context import PartyContext
from vfl.runtime.program import Program


class _FailsBlank(Program):
    """Fails as a crashed worker pool or a closed pipe does: with no message at all."""

    phase = "test"

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def run(self, ctx: PartyContext) -> None:
        raise self.error


class _Idle(Program):
    phase = "test"

    def run(self, ctx: PartyContext) -> None:
        return None


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (BrokenPipeError(), "BrokenPipeError"),
        (RuntimeError("  \n"), "RuntimeError"),
        (RuntimeError("disk full"), "disk full"),
    ],
)
def test_failure_reason_is_never_empty(error: BaseException, reason: str) -> None:
    assert failure_reason(error) == reason


def test_a_failed_simulation_names_a_blank_error_by_its_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def programs(spec: JobSpec, phase: Phase, role: str) -> Program:
        return _FailsBlank(BrokenPipeError()) if role == "label_holder" else _Idle()

    monkeypatch.setattr(api, "program_for_role", programs)
    paths = synthetic_vertical(tmp_path, {"bank": 2, "shop": 2}, rows=30)
    result = api.simulate(job_spec(job_dict(paths)), workdir=tmp_path / "run")
    assert result.status == "failed"
    assert result.error == "party bank: BrokenPipeError"
