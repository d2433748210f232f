"""The vertical (split) parts: a feature holder's and the label holder's graphs.

    feature holder p:  cut = bottom_p((x_p − mean_p) / scale_p)                  (rows × d_p)
    label holder:      z   = bottom_L((x_L − mean_L) / scale_L)·W_L + b + Σ_p c_p
                       logits = top(z), prediction = head(logits)

c_p is peer p's contribution to the interactive layer. Under `protection = "none"` the
label holder holds W_p in plaintext, so its graph takes p's cut output a_p (input
`cut_<p>`, rows × d_p) and computes c_p = a_p·W_p. Under Paillier W_p = V + acc is
secret-shared (V at the label holder, acc at p) and nobody holds it, so the graph takes
c_p = a_p·W_p itself (input `z_<p>`, rows × u), which only the two parties' Paillier
exchange can produce. A feature holder never holds its slice W_p (plain: the label holder
has it; Paillier: it holds only the share acc), so its graph ends at its cut layer.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import nn

from vfl.errors import ExportError
from vfl.export.folder import RETRAIN, ModelFolder
from vfl.export.layers import Head, Scale, mlp_from_state, scaler, sub_state
from vfl.export.part import Part, Port

PRESETS = ("logistic_regression", "linear_regression")


class FeatureHolderGraph(nn.Module):
    """raw x_p → scaler → bottom → cut (the activations the party sends or encrypts)."""

    def __init__(self, scale: Scale, bottom: nn.Module) -> None:
        super().__init__()
        self.scale, self.bottom = scale, bottom

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.bottom(self.scale(x)),)


class LabelHolderGraph(nn.Module):
    """[raw x_L,] one contribution per peer → logits, prediction (module docstring)."""

    def __init__(
        self,
        own: tuple[Scale, nn.Module, torch.Tensor] | None,
        bias: torch.Tensor,
        peer_weights: list[torch.Tensor | None],
        top: nn.Module,
        head: Head,
    ) -> None:
        super().__init__()
        self.has_own = own is not None
        if own is not None:
            self.scale, self.bottom = own[0], own[1]
            self.register_buffer("own_weight", own[2].detach().clone())
        self.register_buffer("bias", bias.detach().clone())
        self.plain = [w is not None for w in peer_weights]
        for k, w in enumerate(peer_weights):
            if w is not None:
                self.register_buffer(f"peer_weight_{k}", w.detach().clone())
        self.top, self.head = top, head

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bias = self.get_buffer("bias")
        z: torch.Tensor | None = None
        if self.has_own:  # the same order of operations as LabelHolderModel.forward_batch
            z = self.bottom(self.scale(inputs[0])) @ self.get_buffer("own_weight") + bias
        peers = inputs[1:] if self.has_own else inputs
        for k, (plain, c) in enumerate(zip(self.plain, peers, strict=True)):
            contribution = c @ self.get_buffer(f"peer_weight_{k}") if plain else c
            z = bias + contribution if z is None else z + contribution
        assert z is not None, "a label holder part has features or peers"
        logits: torch.Tensor = self.top(z)
        return logits, self.head(logits)


def _bottom(kind: str, state: dict[str, torch.Tensor]) -> nn.Module:
    if kind in PRESETS:
        if state:
            raise ValueError(f"a {kind} bottom has no weights, found {sorted(state)[:3]}")
        return nn.Identity()
    return mlp_from_state(state, final_activation=True)


def _names(folder: ModelFolder) -> list[str]:
    names = folder.meta.get("feature_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ExportError(f"{folder.path}/model.json: no feature_names list; {RETRAIN}")
    return names


def _kind(folder: ModelFolder) -> str:
    kind = folder.meta.get("kind")
    if kind not in (*PRESETS, "split_nn"):
        raise ExportError(f"{folder.path}/model.json: unknown model kind {kind!r}; {RETRAIN}")
    return str(kind)


def feature_holder_part(folder: ModelFolder) -> Part:
    names, kind, state = _names(folder), _kind(folder), folder.state
    scale = scaler(state["scaler"], len(names), str(folder.path))
    bottom = _bottom(kind, dict(state["bottom"]))
    graph = FeatureHolderGraph(scale, bottom).eval()
    with torch.no_grad():
        d = int(graph(torch.zeros(1, len(names)))[0].shape[1])
    protection = "paillier" if "acc" in state.get("side", {}) else "none"
    return Part(
        graph,
        (Port("features", len(names), "raw feature columns in vfl.feature_names order"),),
        (Port("cut", d, "cut-layer activations a_p: what this party sends the label holder"),),
        {
            "vfl.mode": "vertical",
            "vfl.role": "feature_holder",
            "vfl.kind": kind,
            "vfl.protection": protection,
            "vfl.feature_names": json.dumps(names),
            "vfl.graph": "cut = bottom((features - mean) / scale)",
        },
    )


def label_holder_part(folder: ModelFolder) -> Part:
    meta, names, kind = folder.meta, _names(folder), _kind(folder)
    model: dict[str, torch.Tensor] = dict(folder.state["model"])
    own_weight, bias = model["own.weight"], model["bias"]
    u = int(bias.shape[0])
    peer_widths: dict[str, Any] = dict(meta["peer_widths"])
    ports, peer_weights, protections = [], [], set()
    for peer, d in peer_widths.items():
        w = model.get(f"sides.{peer}.block.weight")
        if w is not None:
            if tuple(w.shape) != (int(d), u):
                raise ValueError(f"W_{peer} is {tuple(w.shape)}, model.json says {d}×{u}")
            ports.append(Port(f"cut_{peer}", int(d), f"{peer}'s cut output a_{peer}"))
            protections.add("none")
        elif f"sides.{peer}.v_fixed" in model:
            ports.append(Port(f"z_{peer}", u, f"a_{peer}·W_{peer} from the Paillier exchange"))
            protections.add("paillier")
        else:
            raise KeyError(f"sides.{peer}")
        peer_weights.append(w)
    own = None
    if names:
        scale = scaler(folder.state["scaler"], len(names), str(folder.path))
        own = (scale, _bottom(kind, sub_state(model, "bottom.")), own_weight)
        ports.insert(0, Port("features", len(names), "raw feature columns, vfl.feature_names"))
    top = _top(kind, sub_state(model, "top."))
    task = str(meta["task"])
    head = Head(task, float(meta.get("target_mean", 0.0)), float(meta.get("target_scale", 1.0)))
    graph = LabelHolderGraph(own, bias, peer_weights, top, head).eval()
    with torch.no_grad():
        outputs = int(graph(*(torch.zeros(1, p.width) for p in ports))[0].shape[1])
    return Part(
        graph,
        tuple(ports),
        (
            Port("logits", outputs, "the top model's output"),
            Port("prediction", outputs, "binary P(1); multiclass P(class); regression value"),
        ),
        {
            "vfl.mode": "vertical",
            "vfl.role": "label_holder",
            "vfl.kind": kind,
            "vfl.protection": ",".join(sorted(protections)),
            "vfl.feature_names": json.dumps(names),
            "vfl.peers": json.dumps(list(peer_widths)),
            "vfl.task": task,
            "vfl.classes": json.dumps(meta.get("classes", [])),
            "vfl.graph": "z = bottom((features - mean) / scale)·W_L + b + Σ_p (cut_p·W_p | z_p); "
            "logits = top(z); prediction = head(logits)",
        },
    )


def _top(kind: str, state: dict[str, torch.Tensor]) -> nn.Module:
    if kind in PRESETS:
        if state:
            raise ValueError(f"a {kind} top has no weights, found {sorted(state)[:3]}")
        return nn.Identity()
    rest = [k for k in state if not k.startswith("1.")]
    if rest:
        raise ValueError(f"unexpected top entries {rest[:3]}")
    return nn.Sequential(nn.ReLU(), mlp_from_state(sub_state(state, "1."), final_activation=False))
