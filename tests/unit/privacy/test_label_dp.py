"""`LabelDP.perturb`: per-example clipping in δ-space, Gaussian noise of std 2Cz, and the
batch noise every feature holder gets (same per batch scope, replayed, party-secret)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.factories import job_dict, job_spec
from vfl.privacy.accountant import LabelDpAccountant
from vfl.privacy.label_dp import LabelDP, batch_generator
from vfl.runtime.context import PartyContext, party_context
from vfl.runtime.events import NullReporter
from vfl.runtime.in_memory import InMemoryHub
from vfl.runtime.ledger import MemoryLedger
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace


def _label_dp(clip: float, z: float) -> LabelDP:
    return LabelDP(clip, z, 1e-5, None, 1, LabelDpAccountant(1e-5, 1e-3))


def _ctx(root: Path, job_id: str = "job-1") -> PartyContext:
    spec = job_spec(job_dict({"bank": root / "bank.csv", "shop": root / "shop.csv"}))
    return party_context(
        spec,
        "bank",
        job_id,
        "train",
        channel=InMemoryHub().channel("bank"),
        workspace=Workspace(root / "bank"),
        reporter=NullReporter(),
        ledger=MemoryLedger(),
    )


@settings(max_examples=50, deadline=None)
@given(
    delta=arrays(
        np.float64, st.tuples(st.integers(1, 40), st.integers(1, 6)), elements=st.floats(-10, 10)
    ),
    clip=st.floats(0.01, 5.0),
)
def test_without_noise_each_example_is_clipped_to_c_and_kept_if_inside(
    delta: np.ndarray, clip: float
) -> None:
    rows = delta.shape[0]
    out = _label_dp(clip, 0.0).perturb(delta, np.random.default_rng(0))
    before = np.linalg.norm(delta * rows, axis=1)
    after = np.linalg.norm(out * rows, axis=1)
    assert np.all(after <= clip * (1 + 1e-9))
    inside = before <= clip
    np.testing.assert_allclose(out[inside], delta[inside], rtol=1e-12, atol=1e-15)
    outside = ~inside & (before > 0)
    np.testing.assert_allclose(after[outside], clip, rtol=1e-9)
    cos = np.sum(out[outside] * delta[outside], axis=1) / (before[outside] * after[outside])
    np.testing.assert_allclose(cos * rows**2, 1.0, rtol=1e-9)  # direction kept


def test_noise_has_std_2cz_per_entry_of_the_per_example_gradient() -> None:
    rows, clip, z = 500, 0.7, 3.0
    out = _label_dp(clip, z).perturb(np.zeros((rows, 8)), np.random.default_rng(1))
    noise = out * rows
    assert noise.std() == pytest.approx(2 * clip * z, rel=0.03)  # 4000 draws: ±3 % is 4 std
    assert abs(noise.mean()) < 0.1 * clip * z


def test_an_empty_batch_releases_nothing() -> None:
    assert _label_dp(1.0, 1.0).perturb(np.zeros((0, 3)), np.random.default_rng(0)).shape == (0, 3)


def test_batch_noise_depends_on_the_scope_and_the_label_holders_secret_only(
    tmp_path: Path,
) -> None:
    ctx = _ctx(tmp_path)
    batch = ctx.scoped(epoch=0, batch=3)
    first = _generator(batch).normal(size=4)
    again = _generator(_ctx(tmp_path).scoped(epoch=0, batch=3)).normal(size=4)
    np.testing.assert_array_equal(first, again)  # replay: same secret, same scope
    assert not np.array_equal(first, _generator(ctx.scoped(epoch=0, batch=4)).normal(size=4))
    other = _ctx(tmp_path / "other").scoped(epoch=0, batch=3)  # another label holder's secret
    assert not np.array_equal(first, _generator(other).normal(size=4))


def _generator(ctx: PartyContext) -> np.random.Generator:
    return batch_generator(PartySecret.of(ctx), ctx.scope)
