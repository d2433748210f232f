"""`align.pad_target_to`: the source learns the bound the spec states, not how many rows
the target has (and so how many it will score outside the intersection)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from psi.ecdh.messages import Blinded
from tests.transfer_factory import synthetic_transfer, transfer_dict, transfer_spec
from vfl.api import simulate
from vfl.config.loading import parse_job
from vfl.errors import ConfigError
from vfl.runtime.transcript import Transcript


def _blinded_rows_at_source(pad: int | None, tmp_path: Path) -> tuple[int, dict[str, object]]:
    tmp_path.mkdir()
    paths = synthetic_transfer(tmp_path, rows=200)
    align = {"protocol": "ecdh", **({} if pad is None else {"pad_target_to": pad})}
    transcript = Transcript()
    spec = transfer_spec(transfer_dict(paths, align=align, train={"epochs": 1}))
    result = simulate(spec, workdir=tmp_path / "run", transcript=transcript)
    assert result.status == "succeeded", result.error
    sizes = {msg.total for _, msg in transcript.messages("source", Blinded)}
    assert len(sizes) == 1
    target_rows = len(pd.read_csv(paths["target"]))
    scored = len(pd.read_csv(result.outputs["target"]["predictions"]))
    assert scored == target_rows - result.align["intersection_size"]  # padding changes no row
    return sizes.pop(), {"target_rows": target_rows, **result.align}


def test_the_source_sees_the_padded_size_not_the_targets_rows(tmp_path: Path) -> None:
    seen, align = _blinded_rows_at_source(500, tmp_path / "padded")
    assert seen == 500 and align["party_rows"]["target"] == 500  # type: ignore[index]
    # the check can fail: without padding the source sees the target's row count
    seen, align = _blinded_rows_at_source(None, tmp_path / "plain")
    assert seen == align["target_rows"] != 500


def test_a_target_over_the_bound_fails_in_one_line(tmp_path: Path) -> None:
    paths = synthetic_transfer(tmp_path, rows=200)
    spec = transfer_spec(transfer_dict(paths, align={"protocol": "ecdh", "pad_target_to": 10}))
    result = simulate(spec, workdir=tmp_path / "run")
    assert result.status == "failed" and result.error is not None
    assert "\n" not in result.error and "more than align.pad_target_to = 10" in result.error


def test_padding_needs_a_private_protocol(tmp_path: Path) -> None:
    spec = transfer_dict(synthetic_transfer(tmp_path), align={"pad_target_to": 500})
    with pytest.raises(ConfigError, match="pad_target_to needs protocol"):
        parse_job(spec, source="job.toml")
