"""Issue 17, probe 5: job specs from a party certificate were unbounded (a 50,000,000-wide
layer, 100,000 epochs, an infinite timeout, TOML nested until RecursionError) and a 600 KB
spec burned a core because the coordinator parsed it before checking membership.

Mallory submits each through the admin API under its own certificate while an honest job
trains; each is refused with INVALID_ARGUMENT or PERMISSION_DENIED and one line naming
what is wrong, and the honest job's result is the simulator's."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from coordinator.admin_servicer import MAX_SPEC_BYTES
from tests.adversarial.federation import (
    BREAST,
    MALLORY,
    assert_no_attack_result,
    assert_serving,
    mallory_credentials,
    submit_honest,
    wait_for_state,
)
from tests.adversarial.mallory import deployed_spec, mallory_sample
from vfl.cli.local_federation import LocalFederation
from vfl.config.loading import MAX_TOML_DEPTH
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

pytestmark = pytest.mark.slow
HUGE = 600 * 1024
FLOOD = 40
"""Times mallory sends the 600 KB spec while the honest job trains."""


def _specs(root: Path) -> tuple[str, str]:
    """A valid spec naming mallory (as the feature holder) and one naming only others."""
    mine = deployed_spec(mallory_sample(root, "lab"), root / "mallory-spec.toml").read_text()
    others = deployed_spec(BREAST, root / "others-spec.toml").read_text()
    return mine, others


def _cases(mine: str, others: str) -> dict[str, tuple[str, grpc.StatusCode, str]]:
    """Name → (spec, the status code, a fragment of the one-line refusal)."""
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    nested = "[" * (MAX_TOML_DEPTH + 4) + "1" + "]" * (MAX_TOML_DEPTH + 4)
    return {
        "wide layer": (
            mine.replace("bottom_hidden = [32]", "bottom_hidden = [50000000]"),
            invalid,
            "model.bottom_hidden",
        ),
        "epochs": (mine.replace("epochs = 2", "epochs = 100000"), invalid, "train.epochs"),
        "timeout": (mine.replace("[train]\n", "[train]\ntimeout_s = inf\n"), invalid, "timeout_s"),
        "nesting": (f"nested = {nested}\n{mine}", invalid, f"deeper than {MAX_TOML_DEPTH}"),
        "size": (  # refused before it is read at all
            mine + "#" + "x" * HUGE + "\n",
            grpc.StatusCode.PERMISSION_DENIED,
            f"is too large (at most {MAX_SPEC_BYTES})",
        ),
        "not a member": (
            others.replace("epochs = 2", "epochs = 100000"),
            grpc.StatusCode.PERMISSION_DENIED,
            f"party {MALLORY} may submit only jobs it takes part in",
        ),
    }


def _refusal(stub: pb_grpc.AdminStub, spec: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        stub.SubmitJob(pb.SubmitJobRequest(spec_toml=spec), timeout=30)
    return err.value


def test_unbounded_specs_are_refused_with_one_line_naming_the_field(
    fed: LocalFederation, tmp_path: Path
) -> None:
    mine, others = _specs(tmp_path)
    honest = submit_honest(fed, "specs")
    wait_for_state(fed, honest, ("align", "train"))
    with grpc.secure_channel(fed.address, mallory_credentials(fed)) as channel:
        stub = pb_grpc.AdminStub(channel)  # type: ignore[no-untyped-call]
        for name, (spec, code, fragment) in _cases(mine, others).items():
            err = _refusal(stub, spec)
            details = err.details() or ""
            assert (err.code(), fragment in details) == (code, True), (name, details)
            assert "\n" not in details, name
        huge = others + "#" + "x" * HUGE + "\n"
        for _ in range(FLOOD):  # refused on its size alone, member or not
            assert _refusal(stub, huge).code() == grpc.StatusCode.PERMISSION_DENIED
        assert_serving(fed)
    assert_no_attack_result(fed, honest, tmp_path / "oracle")
    assert_serving(fed)
