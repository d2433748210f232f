"""Helpers of the export tests: data whose scaling matters, the same rows at every party,
and running an exported file with onnxruntime."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from numpy.typing import NDArray

from parties.data import load_dataset
from vfl.api import simulate
from vfl.config.job_spec import JobSpec
from vfl.result import JobResult

RTOL, ATOL = 1e-5, 1e-6
"""float32 graphs: within 1e-5 relative (plus 1e-6 absolute for values near zero) of the
torch part on the same rows. Both compute in float32; only operator order may differ."""


def simulate_fixed(spec: JobSpec, workdir: Path) -> JobResult:
    """`simulate` with a fixed job ID and party secrets: the same trained weights (and so
    the same outcome of every check on them) on every run."""
    names = [p.name for p in spec.parties] + (["coordinator"] if spec.plan.hosted else [])
    secrets = {n: hashlib.sha256(n.encode()).digest() for n in names}
    digest = hashlib.sha256(b"export-test").digest()  # not the spec's: its paths vary
    result = simulate(
        spec, workdir=workdir, job_id="export-test", party_secrets=secrets, spec_digest=digest
    )
    assert result.status == "succeeded", result.error
    return result


def shift_features(paths: dict[str, Path], keep: tuple[str, ...] = ("id", "y")) -> None:
    """Feature columns × 7 + 3, so a graph without the party's scaler would be far off."""
    for path in paths.values():
        frame = pd.read_csv(path)
        for column in frame.columns:
            if column not in keep:
                frame[column] = frame[column] * 7.0 + 3.0
        frame.to_csv(path, index=False)


def raw_rows(spec: JobSpec, rows: int = 40) -> dict[str, NDArray[np.float32]]:
    """Each party's raw feature rows (as its data gives them) for the first `rows` IDs that
    every party has, in one order."""
    data = {p.name: load_dataset(spec, p) for p in spec.parties}
    common = set.intersection(*(set(d.ids) for d in data.values()))
    ids = sorted(common)[:rows]
    out = {}
    for name, d in data.items():
        where = {i: k for k, i in enumerate(d.ids)}
        out[name] = d.features[[where[i] for i in ids]]
    return out


def run_onnx(path: Path, inputs: dict[str, NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs), strict=True))


def metadata(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def close(got: NDArray[np.float32], want: NDArray[np.float32] | NDArray[np.float64]) -> None:
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    assert float(np.ptp(want)) > 1e-3, "outputs constant over the rows: nothing compared"
