"""Train, register and predict in one process, with small Paillier keys where asked, and
the in-process oracle: the registered parts' forward pass written out by hand."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from parties.data import load_dataset
from parties.programs import program_for
from tests.unit.split_paillier.harness import TEST_KEY_BITS, run_job
from vfl.algorithms.split.paillier.shares import from_tensor
from vfl.algorithms.split.predict_feature_holder import SplitPredictFeatureHolder
from vfl.algorithms.split.predict_label_holder import SplitPredictLabelHolder
from vfl.config.job_spec import VerticalJobSpec
from vfl.crypto.testing import insecure_keygen
from vfl.registry.model_registry import ModelRegistry
from vfl.registry.registration import register_trained_part
from vfl.registry.sqlite_registry import SqliteModelRegistry
from vfl.result import JobResult, ResultCollector
from vfl.runtime.context import party_context
from vfl.runtime.events import NullReporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.program import Program
from vfl.runtime.score_sink import OutputPlace
from vfl.runtime.simulator import PartyRun, run_phase
from vfl.runtime.workspace import Workspace


def registry(home: Path, party: str) -> SqliteModelRegistry:
    return SqliteModelRegistry(home / "models" / party)


def train_small_keys(spec: VerticalJobSpec, home: Path) -> str:
    """Train with the Paillier harness (512-bit keys) and register the parts as "job"."""
    run_job(spec, home / "train")
    for p in spec.parties:
        register_trained_part(
            registry(home, p.name), spec, "job", p.name, Workspace(home / "train" / p.name), {}
        )
    return "job"


def predict_small_keys(
    spec: VerticalJobSpec,
    home: Path,
    job_id: str = "predict",
    outputs: OutputPlace | None = None,
) -> JobResult:
    """`vfl.predict` with feature holders making 512-bit keys and the label holder
    accepting them (production refuses anything under 2048). `outputs`: every party's
    place (default the simulator's, the spec's folder); a node's to act as one."""
    hub, keygen = InMemoryHub(), insecure_keygen(TEST_KEY_BITS)
    result = JobResult(job=spec.job.name, job_id=job_id, mode=spec.job.mode)
    collector = ResultCollector(result, NullReporter())
    datasets = {p.name: load_dataset(spec, p) for p in spec.parties}
    for phase in spec.phases:
        runs = {}
        for p in spec.parties:
            program: Program
            if phase == "predict":
                program = (
                    SplitPredictFeatureHolder(keygen)
                    if p.role == "feature_holder"
                    else SplitPredictLabelHolder(min_key_bits=TEST_KEY_BITS)
                )
            else:
                program = program_for(spec, phase, p)
            ctx = party_context(
                spec,
                p.name,
                job_id,
                phase,
                channel=hub.channel(p.name),
                workspace=Workspace(home / job_id / p.name),
                reporter=collector,
                ledger=MemoryLedger(),
                data=datasets[p.name],
                registry=registry(home, p.name),
                outputs=outputs or OutputPlace(spec.base_dir),
            )
            runs[p.name] = PartyRun(program, ctx)
        run_phase(hub, job_id, runs)
    return result


def predict_dict(train: dict[str, Any], paths: dict[str, Path], **predict: Any) -> dict[str, Any]:
    """The training spec dict over new data `paths`, with a `[predict]` table."""
    spec = copy.deepcopy(train)
    for party, path in zip(spec["parties"], paths.values(), strict=True):
        party["data"] = str(path)
    spec["predict"] = predict
    return spec


def _mlp(x: torch.Tensor, state: dict[str, torch.Tensor], prefix: str, final: bool) -> torch.Tensor:
    """Linear layers `prefix<k>.weight/bias` in order, ReLU between (and after, if final)."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)\.weight$")
    layers = sorted({int(m.group(1)) for k in state if (m := pattern.match(k))})
    for n, k in enumerate(layers):
        x = x @ state[f"{prefix}{k}.weight"].T + state[f"{prefix}{k}.bias"]
        if final or n < len(layers) - 1:
            x = torch.relu(x)
    return x


def oracle_scores(
    spec: VerticalJobSpec,
    home: Path | Callable[[str], ModelRegistry],
    model: str,
    frames: dict[str, pd.DataFrame],
    id_column: str = "id",
) -> pd.Series:
    """P(1) per ID of the rows every party holds, from the registered parts (in the
    simulator's `home`, or each party's registry), by hand:
    z = bottom_L(x_L)·W_L + b + Σ_p bottom_p(x_p)·W_p, p = sigmoid(top(ReLU(z)))."""
    registry_of = home if callable(home) else lambda party: registry(home, party)
    label = spec.label_holder.name
    state, _ = registry_of(label).load(model, "oracle")
    lstate = state["model"]

    def scaled(party: str, part: dict[str, Any]) -> tuple[pd.Index, torch.Tensor]:
        labels = [c for c in frames[party].columns if c in ("y", spec.label_holder.label_column)]
        frame = frames[party].set_index(id_column).drop(columns=labels)
        x = (frame.to_numpy(np.float32) - part["scaler"]["mean"].numpy()) / part["scaler"][
            "scale"
        ].numpy()
        return frame.index, torch.from_numpy(x.astype(np.float32))

    ids, x = scaled(label, state)
    z = pd.DataFrame(
        (_mlp(x, lstate, "bottom.", True) @ lstate["own.weight"] + lstate["bias"]).numpy(),
        index=ids,
    )
    for p in spec.feature_holders:
        part, _ = registry_of(p.name).load(model, "oracle")
        pids, px = scaled(p.name, part)
        a = _mlp(px, {f"bottom.{k}": v for k, v in part["bottom"].items()}, "bottom.", True)
        if spec.train.protection == "paillier":
            shares = from_tensor(lstate[f"sides.{p.name}.v_fixed"], "V") + from_tensor(
                part["side"]["acc"], "acc"
            )
            weights = shares.astype(float) / 2**spec.train.precision_bits
            w = torch.from_numpy(weights.astype(np.float32))
        else:
            w = lstate[f"sides.{p.name}.block.weight"]
        z = z.add(pd.DataFrame((a @ w).numpy(), index=pids), fill_value=np.nan).dropna()
    z_all = torch.from_numpy(z.to_numpy(np.float32).copy())
    logits = _mlp(torch.relu(z_all), lstate, "top.1.", False)
    return pd.Series(torch.sigmoid(logits).reshape(-1).double().numpy(), index=z.index)
