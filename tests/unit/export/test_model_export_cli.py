"""`vfl model export ID --onnx OUT`: a party's registered part, exported from the registry
a simulated training left, runs in onnxruntime as the part's own torch graph does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from vfl.api import simulate
from vfl.cli.main import main
from vfl.export.onnx import load_part


def test_export_writes_the_registered_part_of_the_named_party(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trained = simulate(
        job_spec(job_dict(synthetic_vertical(tmp_path, {"bank": 3, "shop": 2}))),
        home=tmp_path,
        workdir=tmp_path / "run",
    )
    assert trained.status == "succeeded", trained.error
    out = tmp_path / "shop.onnx"
    base = ["model", "export", trained.job_id, "--workdir", str(tmp_path)]

    assert main([*base, "--onnx", str(out)]) == 2  # both parties hold a part: which one?
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--party" in err and not out.exists()

    assert main([*base, "--party", "shop", "--onnx", str(out)]) == 0
    assert "shop's part" in capsys.readouterr().out
    folder = next((tmp_path / "models" / "shop").rglob("model.json")).parent
    part = load_part(folder)
    rows = np.random.default_rng(0).normal(size=(7, part.inputs[0].width)).astype(np.float32)
    session = ort.InferenceSession(str(out))
    (exported,) = session.run(None, {part.inputs[0].name: rows})
    with torch.no_grad():
        (expected,) = part.module(torch.from_numpy(rows))
    np.testing.assert_allclose(exported, expected.numpy(), rtol=1e-5, atol=1e-6)

    missing = ["model", "export", "no-such-job", "--workdir", str(tmp_path)]
    assert main([*missing, "--onnx", str(out)]) == 2
    assert "no part of job" in capsys.readouterr().err
