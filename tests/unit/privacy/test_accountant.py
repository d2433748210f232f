"""The label-DP accountant against an independent oracle: the closed form of a composed
Gaussian mechanism.

E releases of a Gaussian mechanism with noise multiplier z (std / sensitivity) are one
Gaussian mechanism with multiplier z/√E, i.e. μ-GDP with μ = √E / z, whose exact privacy
curve is δ(ε) = Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2) (Dong, Roth, Su 2019). The accountant
(dp-accounting's PLD, pessimistic) must report an ε at or just above the exact one.
"""

from __future__ import annotations

import math

import pytest

from vfl.config.job_spec import PrivacySpec
from vfl.privacy.accountant import LabelDpAccountant
from vfl.privacy.label_dp import LabelDP


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def exact_epsilon(z: float, epochs: int, delta: float) -> float:
    """The ε at which the μ-GDP curve reaches `delta` (it decreases in ε): bisection."""
    mu = math.sqrt(epochs) / z

    def curve(eps: float) -> float:
        return _phi(-eps / mu + mu / 2) - math.exp(eps) * _phi(-eps / mu - mu / 2)

    low, high = 0.0, 500.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if curve(mid) > delta else (low, mid)
    return high


@pytest.mark.parametrize(("epsilon", "epochs"), [(0.5, 1), (1.0, 10), (4.0, 30), (8.0, 200)])
def test_calibrated_noise_spends_at_most_the_target_and_nearly_all_of_it(
    epsilon: float, epochs: int
) -> None:
    accountant, z = LabelDpAccountant.calibrated(epsilon, 1e-5, epochs)
    spent = accountant.epsilon(z, epochs)
    assert spent <= epsilon
    assert spent >= 0.999 * epsilon
    assert exact_epsilon(z, epochs, 1e-5) == pytest.approx(epsilon, rel=5e-3)


@pytest.mark.parametrize(("z", "epochs"), [(1.0, 1), (3.0, 10), (20.0, 100), (0.3, 5)])
def test_reported_epsilon_matches_the_closed_form(z: float, epochs: int) -> None:
    accountant = LabelDpAccountant.for_noise(z, epochs, 1e-5)
    exact = exact_epsilon(z, epochs, 1e-5)
    assert exact <= accountant.epsilon(z, epochs) <= exact * 1.01 + 1e-3


def test_replace_one_adjacency_is_accounted_as_sensitivity_2c() -> None:
    """The oracle can fail: accounting the noise against C (add/remove) instead of 2C
    would report the ε of a twice larger multiplier, far below the truth."""
    accountant = LabelDpAccountant.for_noise(2.0, 4, 1e-5)
    assert accountant.epsilon(2.0, 4) > 1.5 * exact_epsilon(4.0, 4, 1e-5)


def test_epsilon_grows_with_epochs_and_is_zero_before_training() -> None:
    label_dp = LabelDP.from_spec(PrivacySpec(label_dp_epsilon=2.0), epochs=5)
    assert label_dp is not None
    spent = [label_dp.epsilon(k) for k in range(6)]
    assert spent[0] == 0.0
    assert spent == sorted(spent) and len(set(spent)) == 6
    assert 1.99 < spent[5] <= 2.0


def test_expert_noise_multiplier_is_used_as_given_and_priced() -> None:
    label_dp = LabelDP.from_spec(PrivacySpec(noise_multiplier=3.0, clip=0.5), epochs=10)
    assert label_dp is not None
    assert (label_dp.noise_multiplier, label_dp.clip, label_dp.target_epsilon) == (3.0, 0.5, None)
    assert label_dp.epsilon(10) == pytest.approx(exact_epsilon(3.0, 10, 1e-5), rel=1e-2)


def test_no_label_dp_without_a_target_or_a_multiplier() -> None:
    assert LabelDP.from_spec(PrivacySpec(), epochs=10) is None


@pytest.mark.parametrize(
    "privacy", [PrivacySpec(label_dp_epsilon=1000.0), PrivacySpec(noise_multiplier=0.01)]
)
def test_extreme_settings_are_priced(privacy: PrivacySpec) -> None:
    """A fixed fine PLD grid needs minutes and gigabytes at ε ≈ 1000 (it was killed out of
    memory); the grid coarsens with ε, and pytest-timeout bounds this test."""
    label_dp = LabelDP.from_spec(privacy, epochs=100)
    assert label_dp is not None
    assert label_dp.epsilon(100) > 100
