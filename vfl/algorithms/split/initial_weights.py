"""Where every initial weight of a split model comes from: the owner's party secret.

Initial weights are secrets. A peer or the coordinator that knows them can invert what it
later sees: the review that led here showed a label holder solving a = z_F·W₀⁻¹ because W₀
came from the job seed, which every party and the coordinator know. So:

- each party draws its own bottom model (and the label holder its top, bias and own slice
  of the interactive layer) from its party secret (vfl/runtime/party_secret.py), never the
  job seed;
- a feature holder's slice W of the interactive layer is the sum of two halves,
  W₀ = W_L + W_F: the label holder draws W_L, the feature holder W_F, uniform with 1/16
  and 15/16 of the variance of torch's default init (±1/√fan_in) so their sum has it, and
  neither party knows W₀ (LABEL_VARIANCE_SHARE says why the split is uneven). How W_F
  reaches the sum without being revealed depends on the protection
  (plain: F sends W_F, since L sees F's activations anyway; Paillier: F sends W_F − acc₀
  with a wide uniform acc₀, see paillier/shares.py).

Simulation stays reproducible: the same party secrets (and job id) give the same weights.
"""

from __future__ import annotations

import math

import torch

from vfl.runtime.party_secret import PartySecret

_SCOPE = "init"


def init_generator(secret: PartySecret, purpose: str) -> torch.Generator:
    """A torch generator for one part of the model, from the party's secret alone."""
    seed = secret.derive(f"split/init/{purpose}", _SCOPE).bits(0, 63)
    return torch.Generator().manual_seed(seed)


LABEL_VARIANCE_SHARE = 1 / 16
"""The label holder's share of W₀'s variance; the feature holder draws the rest.

Uneven on purpose. What L knows of W₀ (its half) is what it can invert z_F = a·W₀ with,
and nothing else protects F's activations (in the presets: F's raw features) from L. What
F knows of W₀ helps it read δ out of the gradient δ·Wᵀ it decrypts, but that gradient
carries the labels anyway, and label-DP protects exactly the δ̃ it releases (post-
processing). So L gets a small share: with d = u = 3 (a three-class preset) an even split
let L's plug-in estimate a ≈ z_F·W_L⁻¹ reach a relative error of 0.83."""


def _half(
    secret: PartySecret, purpose: str, d: int, u: int, fan_in: int, share: float
) -> torch.Tensor:
    # uniform ±c has variance c²/3: c = √(3·share·var(W₀)) with var(W₀) = 1/(3·fan_in)
    bound = math.sqrt(share / max(fan_in, 1))
    generator = init_generator(secret, f"interactive/{purpose}")
    return torch.empty(d, u).uniform_(-bound, bound, generator=generator)


def label_half(secret: PartySecret, peer: str, d: int, u: int, fan_in: int) -> torch.Tensor:
    """The label holder's half W_L of `peer`'s slice (d×u), from the label holder's secret."""
    return _half(secret, f"label/{peer}", d, u, fan_in, LABEL_VARIANCE_SHARE)


def feature_half(secret: PartySecret, d: int, u: int, fan_in: int) -> torch.Tensor:
    """A feature holder's half W_F of its own slice (d×u), from its own secret."""
    return _half(secret, "feature", d, u, fan_in, 1 - LABEL_VARIANCE_SHARE)
