"""One phase plan per mode and one program registry: what the lifecycle, the party node
and the simulator agree on, and what an unimplemented mode is told."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from parties.programs import available_modes, check_runnable, program_for
from tests.factories import job_spec
from vfl.algorithms.split.label_holder import SplitTrainLabelHolder
from vfl.config.job_spec import (
    HorizontalRole,
    TransferRole,
    VerticalRole,
    spec_class,
)
from vfl.config.loading import parse_job
from vfl.config.phase_plan import PLANS, TERMINAL, JobState, Mode, Phase, phase_of, plan_for
from vfl.errors import ConfigError
from vfl.runtime.context import party_context
from vfl.runtime.events import NullReporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.workspace import Workspace


def test_enum_values_are_the_strings_stored_and_sent() -> None:
    assert [str(s) for s in JobState] == [
        "pending", "approved", "align", "train", "evaluate", "predict", "succeeded", "failed",
        "cancelled",
    ]  # fmt: skip
    assert {str(p) for p in Phase} <= {str(s) for s in JobState}  # a running job's state
    assert f"{Phase.TRAIN}_s" == "train_s" and {"succeeded", "failed", "cancelled"} == TERMINAL
    assert phase_of("train") is Phase.TRAIN and phase_of("pending") is None


def test_each_mode_plans_its_phases_in_order() -> None:
    vertical = plan_for("vertical")
    assert vertical.phases == ("align", "train", "evaluate")
    assert vertical.first == "align" and vertical.after("align") == "train"
    assert vertical.after("evaluate") is None
    assert plan_for("horizontal").phases == ("train", "evaluate")  # no align
    assert plan_for("transfer").phases == ("align", "train", "evaluate", "predict")
    assert plan_for("transfer").after("evaluate") == "predict"
    assert not plan_for("horizontal").runs("align")
    with pytest.raises(ConfigError, match="'diagonal' is not a mode"):
        plan_for("diagonal")


def test_the_spec_roles_are_the_plan_roles() -> None:
    literals = {Mode.VERTICAL: VerticalRole, Mode.HORIZONTAL: HorizontalRole}
    literals[Mode.TRANSFER] = TransferRole
    for mode, plan in PLANS.items():
        assert set(get_args(literals[mode])) == {str(r) for r in plan.roles}
        assert spec_class(mode).MODE is mode


def _horizontal() -> dict[str, object]:
    parties = [
        {
            "name": n,
            "role": "sample_holder",
            "data": "x.csv",
            "id_column": "id",
            "label_column": "y",
        }
        for n in ("a", "b")
    ]
    return {"job": {"name": "h", "mode": "horizontal"}, "parties": parties}


def test_the_registry_refuses_the_default_transfer_spec_under_paillier_in_one_line() -> None:
    """Default transfer spec: paillier with hidden = [32], which Paillier cannot train."""
    parties = [
        {"name": n, "role": r, "data": "x.csv", "id_column": "id"}
        for n, r in (("s", "source"), ("t", "target"))
    ]
    parties[0]["label_column"] = "y"
    spec = parse_job({"job": {"name": "t", "mode": "transfer"}, "parties": parties}, "t.toml")
    with pytest.raises(ConfigError) as caught:
        check_runnable(spec)
    assert str(caught.value).startswith("model.hidden: [32] under train.protection = 'paillier'")
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="set hidden = \\[\\]"):
        program_for(spec, Phase.TRAIN, spec.parties[0])
    linear = parse_job(
        {"job": {"name": "t", "mode": "transfer"}, "parties": parties, "model": {"hidden": []}},
        "t.toml",
    )
    check_runnable(linear)
    assert available_modes() == ["horizontal", "transfer", "vertical"]
    plain = parse_job(
        {
            "job": {"name": "t", "mode": "transfer"},
            "parties": parties,
            "train": {"protection": "none"},
        },
        "t.toml",
    )
    check_runnable(plain)
    assert {program_for(plain, p, plain.parties[1]).phase for p in plain.phases} == set(
        plain.phases
    )
    check_runnable(parse_job(_horizontal(), "h.toml"))  # horizontal has its programs


def test_the_registry_and_the_context_factory_serve_a_vertical_job(tmp_path: Path) -> None:
    spec = job_spec(
        {
            "job": {"name": "v"},
            "parties": [
                {"name": "l", "role": "label_holder", "data": "l.csv", "id_column": "id",
                 "label_column": "y"},
                {"name": "f", "role": "feature_holder", "data": "f.csv", "id_column": "id"},
            ],
            "train": {"protection": "none"},
        }
    )  # fmt: skip
    check_runnable(spec)
    assert isinstance(program_for(spec, "train", spec.label_holder), SplitTrainLabelHolder)
    ctx = party_context(
        spec,
        "f",
        "job-1",
        Phase.ALIGN,
        channel=InMemoryHub().channel("f"),
        workspace=Workspace(tmp_path / "f"),
        reporter=NullReporter(),
        ledger=MemoryLedger(),
    )
    assert (ctx.role, ctx.scope, ctx.protection) == ("feature_holder", "align", "none")
    with pytest.raises(ConfigError, match="does not name party zed"):
        party_context(
            spec,
            "zed",
            "job-1",
            Phase.ALIGN,
            channel=InMemoryHub().channel("zed"),
            workspace=Workspace(tmp_path / "z"),
            reporter=NullReporter(),
            ledger=MemoryLedger(),
        )
