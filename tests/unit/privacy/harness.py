"""An `AuditRun` from the small-key harness, for Paillier audits that must run in seconds
(`vfl.api.audit` uses production keys), and the synthetic set label inference needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parties.data import load_dataset
from tests.unit.split_paillier.harness import FIXED_SPEC_DIGEST, Run, run_job
from vfl.config.job_spec import VerticalJobSpec
from vfl.privacy.audit_run import AuditRun
from vfl.runtime.transcript import Transcript
from vfl.runtime.workspace import Workspace


def audit_run(spec: VerticalJobSpec, workdir: Path) -> tuple[AuditRun, Run]:
    """Run `spec` with 512-bit keys and a transcript; the run as the audit sees it."""
    transcript = Transcript()
    run = run_job(spec, workdir, transcript=transcript)
    workspaces = {p.name: Workspace(workdir / p.name) for p in spec.parties}
    data = {
        p.name: load_dataset(spec, p).aligned(workspaces[p.name].load_alignment())
        for p in spec.parties
    }
    return AuditRun(spec, "job", transcript, workspaces, data, FIXED_SPEC_DIGEST), run


def leaky_binary(
    folder: Path, rows: int, positives: float = 0.15, seed: int = 0
) -> dict[str, Path]:
    """bank (label holder, 2 columns) and shop (4 columns); labels only loosely follow the
    features, so the model keeps mispredicting the rare positives and |p − y|, which
    scales every row of the cut-layer gradient, tells the classes apart (Li et al. 2021)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 6)).astype(np.float32)
    score = 0.5 * (x @ rng.normal(size=6)) + 1.5 * rng.normal(size=rows)
    y = (score > np.quantile(score, 1 - positives)).astype(int)
    ids = [f"id-{i:05d}" for i in range(rows)]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for party, cols in (("bank", slice(0, 2)), ("shop", slice(2, 6))):
        frame = pd.DataFrame(
            x[:, cols], columns=[f"{party}_f{j}" for j in range(cols.stop - cols.start)]
        )
        frame.insert(0, "id", ids)
        if party == "bank":
            frame["y"] = y
        paths[party] = folder / f"{party}.csv"
        frame.to_csv(paths[party], index=False)
    return paths
