"""Ditto personalization (Li, Hu, Beirami, Smith, ICML 2021): next to the global model each
sample holder keeps a personal model v of its own.

Every round a party is sampled it first takes its usual local step on the global model w it
received (that update goes to the aggregator exactly as without Ditto), then `local_epochs`
of minibatch steps on v minimizing f(v) + λ/2·‖v − w‖², f its own training loss and
λ = `ditto_lambda`. v starts from the first global model the party receives.

Nothing about v leaves the party: no message changes. It is checkpointed with the party's
round state (a resumed party continues from the same v and redraws the same batches), kept
in its model as `personal_params`, and scored by the evaluate phase (`…/personal` metrics).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vfl.algorithms.horizontal.local_training import (
    LocalConfig,
    descend,
    flatten,
    load_flat,
    snapshot,
)
from vfl.algorithms.horizontal.strategies import Vector
from vfl.algorithms.split.preprocess import LabelCodec
from vfl.config.horizontal_spec import Personalization
from vfl.config.job_spec import HorizontalJobSpec
from vfl.runtime.party_secret import PartySecret
from vfl.runtime.workspace import Workspace

STATE_KEY = "ditto_personal"
"""The personal model's entry in the sample holder's round checkpoint."""
MODEL_KEY = "personal_params"
"""The personal model's entry in the party's saved model (as finetune's)."""


def personal_step(
    model: nn.Module,
    personal: Vector,
    global_params: Vector,
    codec: LabelCodec,
    x: torch.Tensor,
    y: torch.Tensor,
    config: LocalConfig,
    generator: torch.Generator,
) -> Vector:
    """Ditto's local solver: from `personal`, config.epochs of minibatch steps on the loss
    plus (config.proximal_mu/2)·‖v − global_params‖²; returns the new personal model."""
    load_flat(model, global_params)
    anchor = snapshot(model)
    load_flat(model, personal)
    descend(model, codec, x, y, config, generator, anchor)
    return flatten(model)


class PersonalModel:
    """The hooks a sample holder's round calls for a personal model kept during training.
    This base keeps none (personalization none, or finetune, which runs after training):
    every hook does nothing."""

    def round(
        self,
        secret: PartySecret,
        scope: str,
        global_params: Vector,
        x: torch.Tensor,
        y: torch.Tensor,
    ) -> None:
        """The personal steps of the round `scope`, after the party's step on the global
        model `global_params` it received (only in rounds the party is sampled)."""

    def state(self) -> dict[str, np.ndarray]:
        """What the round checkpoint keeps of it."""
        return {}

    def load_state(self, saved: dict[str, Any]) -> None:
        """Continue from what `state` kept in the checkpoint `saved`."""

    def keep(self, workspace: Workspace, final: Vector) -> None:
        """Add the personal model to the party's saved model, once the final model came."""


def personal_model(
    spec: HorizontalJobSpec,
    template: nn.Module,
    codec: LabelCodec,
    config: LocalConfig,
) -> PersonalModel:
    """The party's personal model: Ditto's when the spec asks for it (restored from the
    round checkpoint by `load_state`), else the base that keeps none. `template`: the shared
    architecture; `config`: the party's local training, whose epochs, optimizer and
    learning rate the personal steps take."""
    if spec.train.personalization is not Personalization.DITTO:
        return PersonalModel()
    ditto_config = replace(config, proximal_mu=spec.train.ditto_lambda)
    return DittoModel(copy.deepcopy(template), codec, ditto_config, None)


class DittoModel(PersonalModel):
    """One party's personal model v under Ditto, updated each round the party is sampled."""

    def __init__(
        self, model: nn.Module, codec: LabelCodec, config: LocalConfig, personal: Vector | None
    ) -> None:
        self.model, self.codec, self.config = model, codec, config
        self.personal = personal
        """v; None until the party first receives a global model."""

    def round(
        self,
        secret: PartySecret,
        scope: str,
        global_params: Vector,
        x: torch.Tensor,
        y: torch.Tensor,
    ) -> None:
        """`local_epochs` of steps on v towards the round's global model; batches drawn from
        the party's secret for `scope`, so a replayed round draws the same."""
        if self.personal is None:
            self.personal = global_params.copy()
        seed = secret.derive("horizontal/ditto-batches", scope).bits(0, 63)
        generator = torch.Generator().manual_seed(seed)
        self.personal = personal_step(
            self.model, self.personal, global_params, self.codec, x, y, self.config, generator
        )

    def state(self) -> dict[str, np.ndarray]:
        return {} if self.personal is None else {STATE_KEY: self.personal}

    def load_state(self, saved: dict[str, Any]) -> None:
        restored = saved.get(STATE_KEY)
        self.personal = None if restored is None else np.asarray(restored, dtype=np.float64)

    def keep(self, workspace: Workspace, final: Vector) -> None:
        """Add the personal model to the party's saved model; a party never sampled has
        only ever received the final model, which is then its personal model too."""
        personal = final if self.personal is None else self.personal
        state, meta = workspace.load_model()
        state[MODEL_KEY] = torch.from_numpy(personal.astype(np.float64))
        workspace.save_model(state, {**meta, "personalized": True})


def load_personal(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Put the personal model kept by `DittoModel.keep` into `model` (evaluate phase)."""
    load_flat(model, state[MODEL_KEY].double().numpy())
