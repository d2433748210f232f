"""Where every initial weight of a split model comes from: the owner's party secret.

Initial weights are secrets. A peer or the coordinator that knows them can invert what it
later sees: the review that led here showed a label holder solving a = z_F·W₀⁻¹ because W₀
came from the job seed, which every party and the coordinator know. So:

- each party draws its own bottom model (and the label holder its top, bias and own slice
  of the interactive layer) from its party secret (vfl/runtime/party_secret.py), never the
  job seed;
- a feature holder's slice W of the interactive layer is the sum of two halves,
  W₀ = W_L + W_F: the label holder draws W_L, the feature holder W_F, each uniform in
  ±b/√2 (b = 1/√fan_in), so W₀ has the variance of torch's default init and neither party
  knows it. How W_F reaches the sum without being revealed depends on the protection
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


def interactive_half(
    secret: PartySecret, purpose: str, d: int, u: int, fan_in: int
) -> torch.Tensor:
    """One party's half of a shared interactive slice (d×u): uniform in ±1/√(2·fan_in)."""
    bound = 1.0 / math.sqrt(2 * max(fan_in, 1))
    generator = init_generator(secret, f"interactive/{purpose}")
    return torch.empty(d, u).uniform_(-bound, bound, generator=generator)


def label_half_purpose(peer: str) -> str:
    """The label holder's half of `peer`'s slice."""
    return f"label/{peer}"


FEATURE_HALF_PURPOSE = "feature"
"""A feature holder's half of its own slice."""
