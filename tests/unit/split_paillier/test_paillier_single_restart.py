"""One party of a Paillier job dies mid-epoch and restarts alone; its peer keeps running.

The restarted program replays epoch 1 from the epoch-0 checkpoint while the peer is in the
middle of epoch 1: its re-sent messages are dropped and it is handed the replies it had
already received. That only works if it re-sends exactly what it sent the first time —
same key (kept in its workspace), same masks, noise and obfuscators (derived from its
party secret and the message scope). Checked three ways:
- byte-identical bodies for every sequence number the victim sent twice;
- the whole run equals an uninterrupted run of parties holding the same secrets (copied
  workspace `private/` folders): identical losses, metrics and model files;
- a restart with its own keys against an uninterrupted run with other keys (party
  secrets are fixed in both, since they also draw the initial weights; no label-DP noise):
  final model and metrics agree within the oracle's fixed-point tolerance (TOLERANCE,
  test_paillier_oracle.py).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.factories import job_dict, job_spec, synthetic_vertical
from tests.unit.split_paillier.harness import fixed_secret, run_job
from tests.unit.split_paillier.restart_harness import CountingKeygen, RestartRun, run_with_restart
from tests.unit.split_paillier.test_paillier_oracle import TOLERANCE
from vfl.algorithms.split.paillier import messages as pm
from vfl.algorithms.split.paillier.shares import from_tensor
from vfl.config.job_spec import VerticalJobSpec
from vfl.protocol import serde
from vfl.runtime.workspace import Workspace

L, F = "bank", "shop"
CRASH_AT = "train/epoch=1/batch=2#0"  # the victim's first message of epoch 1, batch 2
F_KINDS = {
    serde.kind_of(m)
    for m in (
        pm.PaillierKey,
        pm.EncryptedActivations,
        pm.EncryptedBackwardInputs,
        pm.UnmaskedProduct,
        pm.MaskedWeightGradient,
    )
}
L_KINDS = {serde.kind_of(m) for m in (pm.InteractiveWidth, pm.MaskedProduct, pm.EncryptedGradients)}


def _spec(tmp: Path, label_dp: bool) -> VerticalJobSpec:
    paths = synthetic_vertical(tmp, {L: 3, F: 4}, rows=160)
    train = {
        "protection": "paillier",
        "optimizer": "sgd",
        "learning_rate": 0.1,
        "workers": 1,
        "precision_bits": 20,
    }
    privacy = {"noise_multiplier": 0.05} if label_dp else {}
    return job_spec(job_dict(paths, train=train, privacy=privacy))


class Runs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.noisy = _spec(root, label_dp=True)  # L's label-DP noise in B4 must replay too
        self.spec = _spec(root, label_dp=False)
        self.reference = _uninterrupted(self.noisy, root / "reference")
        self.fresh = _uninterrupted(self.spec, root / "fresh")
        self.restarted: dict[str, RestartRun] = {}
        self.own: dict[str, RestartRun] = {}
        self.keygens: dict[str, CountingKeygen] = {}
        self.own_keygens: dict[str, CountingKeygen] = {}
        for victim in (L, F):
            work = root / f"restart-{victim}"
            for party in (L, F):  # the reference parties' secrets and keys
                shutil.copytree(root / "reference" / party / "private", work / party / "private")
            self.keygens[victim] = CountingKeygen()
            self.restarted[victim] = run_with_restart(
                self.noisy, work, victim, CRASH_AT, self.keygens[victim]
            )
            self.own_keygens[victim] = CountingKeygen()
            for party in (L, F):  # the fixed secrets run_job gives: same initial weights
                fixed_secret(Workspace(root / f"own-{victim}" / party), "job", party)
            self.own[victim] = run_with_restart(
                self.spec, root / f"own-{victim}", victim, CRASH_AT, self.own_keygens[victim]
            )


def _uninterrupted(spec: VerticalJobSpec, workdir: Path) -> RestartRun:
    run = RestartRun()
    run_job(spec, workdir, run=run)
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory.mktemp("single-restart"))


def _weights(folder: Path) -> dict[str, Any]:
    state: dict[str, Any] = torch.load(folder / "model" / "weights.pt", weights_only=True)
    return state


@pytest.mark.parametrize("victim", [L, F])
def test_restarted_program_resends_byte_identical_envelopes(runs: Runs, victim: str) -> None:
    sent: dict[str, list[bytes]] = defaultdict(list)
    kinds: dict[str, str] = {}
    for env in runs.restarted[victim].hub.envelopes:
        if env.src == victim:
            sent[env.seq].append(env.body)
            kinds[env.seq] = env.kind
    replayed = {seq: bodies for seq, bodies in sent.items() if len(bodies) > 1}
    assert all(len(b) == 2 for b in replayed.values())
    differing = [seq for seq, (first, again) in replayed.items() if first != again]
    assert differing == [], f"{victim} re-sent different bodies for {differing}"
    # the handshake and both replayed batches of epoch 1, every Paillier message kind
    assert {kinds[s] for s in replayed} >= (F_KINDS if victim == F else L_KINDS)
    assert any(s.startswith("train/epoch=1/batch=1#") for s in replayed)
    assert not any(s.startswith("train/epoch=1/batch=2#") for s in replayed)


@pytest.mark.parametrize("victim", [L, F])
def test_single_party_restart_equals_the_uninterrupted_run_with_the_same_secrets(
    runs: Runs, victim: str
) -> None:
    restarted, reference = runs.restarted[victim], runs.reference
    assert restarted.steps == reference.steps and len(reference.steps) == 8
    assert restarted.metrics == reference.metrics
    first = {(e.src, e.dst, e.seq): e.body for e in reversed(restarted.hub.envelopes)}
    assert first == {(e.src, e.dst, e.seq): e.body for e in reference.hub.envelopes}
    for party in (L, F):
        got = _weights(runs.root / f"restart-{victim}" / party)
        want = _weights(runs.root / "reference" / party)
        assert _flat(got).keys() == _flat(want).keys()
        for key, value in _flat(want).items():
            assert torch.equal(_flat(got)[key], value), f"{party}: {key} differs"
    assert runs.keygens[victim].calls == 0  # every key came from the copied workspace


@pytest.mark.parametrize("victim", [L, F])
def test_single_party_restart_matches_a_fresh_run_within_fixed_point_tolerance(
    runs: Runs, victim: str
) -> None:
    restarted, fresh = runs.own[victim], runs.fresh
    assert runs.own_keygens[victim].calls == 2  # train and evaluate: the restart reloaded it
    worst = max(abs(restarted.steps[k] - fresh.steps[k]) for k in fresh.steps)
    assert worst < TOLERANCE, f"per-step loss differs by {worst:.2e}"
    for split in ("train", "validation"):
        for name, value in fresh.metrics[split].items():
            assert restarted.metrics[split][name] == pytest.approx(value, abs=TOLERANCE), name
    # W = V + acc is the model; V and acc alone depend on the masks ε, which differ.
    f = runs.spec.train.precision_bits

    def interactive(root: Path) -> torch.Tensor:
        v = from_tensor(_weights(root / L)["model"][f"sides.{F}.v_fixed"], "V")
        acc = from_tensor(_weights(root / F)["side"]["acc"], "acc")
        return torch.tensor([[float(x) / 2**f for x in row] for row in v + acc])

    w_restarted = interactive(runs.root / f"own-{victim}")
    w_fresh = interactive(runs.root / "fresh")
    assert torch.allclose(w_restarted, w_fresh, atol=TOLERANCE, rtol=0)
    bottom = _flat(_weights(runs.root / f"own-{victim}" / F)["bottom"])
    for key, tensor in _flat(_weights(runs.root / "fresh" / F)["bottom"]).items():
        assert torch.allclose(bottom[key], tensor, atol=TOLERANCE, rtol=0), key


def test_the_feature_holder_keeps_its_key_and_secret_private_in_its_workspace(
    runs: Runs,
) -> None:
    private = runs.root / "fresh" / F / "private"
    files = sorted(p.name for p in private.iterdir())
    assert len(files) == 3, files  # the party secret, the train key, the evaluate key
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for p in private.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    secrets_on_disk = [p.read_bytes() for p in private.iterdir()]
    for env in runs.fresh.hub.envelopes:
        raw = env.to_bytes()
        assert not any(s in raw for s in secrets_on_disk)
    assert os.listdir(runs.root / "fresh" / L / "private")  # L has its own secret


def _flat(state: dict[str, Any], prefix: str = "") -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, torch.Tensor):
            out[f"{prefix}{key}"] = value
    return out
