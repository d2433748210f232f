"""The FTL model, the same at both parties: representation networks, Φ, scores, the loss.

    u_A = Net_A(x_A), u_B = Net_B(x_B)                  (n×d, the common space)
    Ỹ   = 2y − 1 (n×1, binary)  |  one-hot(y) (n×K, multiclass)
    Φ   = Ỹᵀ·u_A / n                                     (K×d, the source's class summary)
    s   = u_B·Φᵀ                                          (n×K, a target row's scores)
    L   = ℓ(y, s) + γ · (1/n) Σ_i ‖u_A,i − u_B,i‖²        (+ each party's own L2 on θ)

ℓ is the logistic loss for binary (mean log(1 + exp(−ỹ·s)), i.e. BCE with logits) and the
softmax cross-entropy for multiclass. Within a training batch Φ is taken over the batch's
rows (the labelled overlap rows the loss uses); the published Φ is taken over every
training row of the overlap with the trained Net_A. The L2 terms are `train.weight_decay`
in each party's optimizer, over its own network. docs/transfer.md says why.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from vfl.algorithms.split.preprocess import LabelCodec
from vfl.config.job_spec import TransferJobSpec
from vfl.models.mlp import mlp
from vfl.runtime.party_secret import PartySecret


def init_generator(secret: PartySecret, purpose: str) -> torch.Generator:
    """A torch generator for one network's initial weights, from the party's secret alone
    (never the job seed, which the peer and the coordinator know)."""
    seed = secret.derive(f"transfer/init/{purpose}", "init").bits(0, 63)
    return torch.Generator().manual_seed(seed)


def build_representation(
    spec: TransferJobSpec, in_width: int, generator: torch.Generator
) -> nn.Sequential:
    """A party's Net: an MLP from its columns into the common space (linear last layer:
    representations may be negative, as ±1-weighted means need)."""
    return mlp([in_width, *spec.model.hidden, spec.model.representation_width], generator, False)


def coded_labels(codec: LabelCodec, encoded: torch.Tensor) -> torch.Tensor:
    """Ỹ: ±1 (n×1) for binary, one-hot (n×K) for multiclass, from `codec.encode` output."""
    if codec.task == "multiclass":
        return nn.functional.one_hot(encoded, codec.outputs).to(torch.float32)
    return 2 * encoded - 1


def class_summary(u_a: torch.Tensor, coded: torch.Tensor) -> torch.Tensor:
    """Φ = Ỹᵀ·u_A / n (K×d)."""
    return coded.T @ u_a / max(u_a.shape[0], 1)


def scores(u_b: torch.Tensor, summary: torch.Tensor) -> torch.Tensor:
    """φ(u_B) = u_B·Φᵀ (n×K): logits for the codec's loss and probabilities."""
    return u_b @ summary.T


def alignment_loss(u_a: torch.Tensor, u_b: torch.Tensor) -> torch.Tensor:
    """(1/n) Σ_i ‖u_A,i − u_B,i‖²."""
    return ((u_a - u_b) ** 2).sum(dim=1).mean()


def taylor_loss(logits: torch.Tensor, coded: torch.Tensor) -> torch.Tensor:
    """mean(log 2 − ½ỹφ + ⅛φ²): the logistic loss to second order at φ = 0 (ỹ² = 1), the
    loss the Paillier exchange computes (binary only)."""
    return (math.log(2) - 0.5 * coded * logits + 0.125 * logits**2).mean()


def ftl_loss(
    codec: LabelCodec,
    u_a: torch.Tensor,
    u_b: torch.Tensor,
    labels: torch.Tensor,
    gamma: float,
    prediction_loss: str = "logistic",
) -> torch.Tensor:
    """L of one batch of overlap rows (`labels` as `codec.encode` gives them); ℓ is the
    codec's loss, or its Taylor expansion with `prediction_loss = "taylor"`."""
    coded = coded_labels(codec, labels)
    summary = class_summary(u_a, coded)
    logits = scores(u_b, summary)
    if prediction_loss == "taylor":
        loss = taylor_loss(logits, coded.reshape(logits.shape))
    else:
        loss = codec.loss(logits, labels)
    if gamma:
        loss = loss + gamma * alignment_loss(u_a, u_b)
    return loss


def make_optimizer(spec: TransferJobSpec, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """The configured optimizer over one party's network; weight_decay is its L2 term."""
    lr, wd = spec.train.learning_rate, spec.train.weight_decay
    if spec.train.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=True)
    return torch.optim.SGD(params, lr=lr, weight_decay=wd, fused=True)
