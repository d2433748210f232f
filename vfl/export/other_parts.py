"""The horizontal and transfer parts.

    horizontal (sample holder or coordinator): logits = mlp((x − mean) / scale),
                                               prediction = head(logits)
    transfer source / target:                  representation = Net((x − mean) / scale)

A horizontal party holds the whole federated model, so its graph is the whole model over
the federation's scaling. A transfer party holds its representation network Net_A or
Net_B; the scores u_B·Φᵀ need the source's class summary Φ and the target's u_B, which
no single party's graph has, so each side's graph ends at its representation.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from vfl.algorithms.horizontal.local_training import load_flat
from vfl.errors import ExportError
from vfl.export.folder import RETRAIN, ModelFolder
from vfl.export.layers import Head, Scale, mlp_from_state, scaler
from vfl.export.part import Part, Port
from vfl.models.mlp import mlp


class ScaledModel(nn.Module):
    """raw x → scaler → model, with the prediction head when `head` is given."""

    def __init__(self, scale: Scale, model: nn.Module, head: Head | None) -> None:
        super().__init__()
        self.scale, self.model, self.head = scale, model, head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out: torch.Tensor = self.model(self.scale(x))
        return (out,) if self.head is None else (out, self.head(out))


def _names(folder: ModelFolder, key: str) -> list[str]:
    names = folder.meta.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ExportError(f"{folder.path}/model.json: no {key} list; {RETRAIN}")
    return names


def horizontal_part(folder: ModelFolder) -> Part:
    meta, state = folder.meta, folder.state
    names = _names(folder, "features")
    if "layers" not in meta or "outputs" not in meta:
        raise ExportError(
            f"{folder.path}/model.json: a horizontal model saved without its architecture "
            "(no layers / outputs, written before export existed); re-run the job's train "
            "phase with this version to export it"
        )
    layers = [int(w) for w in meta["layers"]]
    outputs, task = int(meta["outputs"]), str(meta.get("task", "binary"))
    model = mlp([len(names), *layers, outputs], torch.Generator(), final_activation=False)
    load_flat(model, np.asarray(state["params"].double().numpy(), dtype=np.float64))
    scale = scaler({"mean": state["mean"], "scale": state["scale"]}, len(names), str(folder.path))
    graph = ScaledModel(scale, model.eval(), Head(task)).eval()
    return Part(
        graph,
        (Port("features", len(names), "raw feature columns in vfl.feature_names order"),),
        (
            Port("logits", outputs, "the federated model's output"),
            Port("prediction", outputs, "binary P(1); multiclass P(class); regression value"),
        ),
        {
            "vfl.mode": "horizontal",
            "vfl.role": "coordinator" if folder.weights_file.endswith(".npz") else "sample_holder",
            "vfl.kind": "mlp" if layers else "preset",
            "vfl.feature_names": json.dumps(names),
            "vfl.task": task,
            "vfl.classes": json.dumps(meta.get("classes", [])),
            "vfl.graph": "logits = mlp((features - mean) / scale); prediction = head(logits)",
        },
    )


def transfer_part(folder: ModelFolder) -> Part:
    names, state, role = _names(folder, "feature_names"), folder.state, str(folder.meta["role"])
    scale = scaler(state["scaler"], len(names), str(folder.path))
    net = mlp_from_state(dict(state["net"]), final_activation=False)
    graph = ScaledModel(scale, net, None).eval()
    with torch.no_grad():
        width = int(graph(torch.zeros(1, len(names)))[0].shape[1])
    net_name = "Net_A" if role == "source" else "Net_B"
    return Part(
        graph,
        (Port("features", len(names), "raw feature columns in vfl.feature_names order"),),
        (Port("representation", width, f"{net_name}(x): the row in the common space"),),
        {
            "vfl.mode": "transfer",
            "vfl.role": role,
            "vfl.kind": str(folder.meta.get("kind", "ftl")),
            "vfl.feature_names": json.dumps(names),
            "vfl.graph": "representation = net((features - mean) / scale)",
        },
    )
