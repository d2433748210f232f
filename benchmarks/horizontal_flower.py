"""The Flower side of benchmarks/horizontal.py: run in Flower's own virtualenv (flwr with its
simulation engine, Ray), never imported by vfl. It reads the arrays benchmarks/horizontal_data.py
prepared (each client's training rows, already scaled, and the initial parameters), runs
Flower's simulation with the Message API (`ServerApp` + `FedAvg.start`, `ClientApp` with a
train handler), and writes the final parameters as one flat vector in vfl's order, so the
benchmark scores both frameworks' models with the same code.

    flwr-venv/bin/python benchmarks/horizontal_flower.py DATA.npz OUT.npy CONFIG_JSON

Prints one JSON line: {"seconds": the run_simulation call, Ray start included}.
"""

from __future__ import annotations

import json
import sys
import time
from functools import cache
from typing import Any

import numpy as np
import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg
from flwr.simulation import run_simulation
from torch import nn


def model(features: int, hidden: list[int]) -> nn.Sequential:
    """vfl's MLP (vfl/models/mlp.py): Linear, ReLU between layers, no final activation."""
    widths = [features, *hidden, 1]
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def flat_to_state(net: nn.Module, flat: np.ndarray) -> dict[str, torch.Tensor]:
    state, offset = {}, 0
    for name, tensor in net.state_dict().items():
        size = tensor.numel()
        state[name] = torch.from_numpy(flat[offset : offset + size].astype(np.float32)).reshape(
            tensor.shape
        )
        offset += size
    return state


@cache
def arrays(path: str) -> dict[str, np.ndarray]:
    """One load per Ray worker process, not per round (the workers import this module by
    name: see the end of the file)."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


client = ClientApp()


@client.train()
def train(msg: Message, context: Context) -> Message:
    config = msg.content["config"]
    data = arrays(str(config["data"]))
    partition = int(context.node_config["partition-id"])
    x = torch.from_numpy(data[f"x{partition}"])
    y = torch.from_numpy(data[f"y{partition}"]).reshape(-1, 1)
    net = model(x.shape[1], json.loads(str(config["hidden"])))
    net.load_state_dict(msg.content["arrays"].to_torch_state_dict())
    optimizer = torch.optim.SGD(net.parameters(), lr=float(config["lr"]))
    batch = int(config["batch_size"])
    for _ in range(int(config["local_epochs"])):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch):
            rows = order[start : start + batch]
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(net(x[rows]), y[rows])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    reply = RecordDict(
        {
            "arrays": ArrayRecord(net.state_dict()),
            "metrics": MetricRecord({"num-examples": len(x)}),
        }
    )
    return Message(content=reply, reply_to=msg)


def main() -> None:
    data_path, out_path, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    hidden: list[int] = settings["hidden"]
    init = arrays(data_path)["init"]
    features = arrays(data_path)["x0"].shape[1]
    server = ServerApp()
    final: dict[str, Any] = {}

    @server.main()
    def run(grid: Grid, context: Context) -> None:
        net = model(features, hidden)
        strategy = FedAvg(fraction_train=1.0, fraction_evaluate=0.0)
        result = strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord(flat_to_state(net, init)),
            num_rounds=settings["rounds"],
            train_config=ConfigRecord(
                {
                    "data": data_path,
                    "hidden": json.dumps(hidden),
                    "lr": settings["learning_rate"],
                    "batch_size": settings["batch_size"],
                    "local_epochs": settings["local_epochs"],
                }
            ),
        )
        if len(result.train_metrics_clientapp) != settings["rounds"]:
            raise RuntimeError(f"rounds with client replies: {result.train_metrics_clientapp}")
        final["state"] = result.arrays.to_torch_state_dict()

    backend = {
        "init_args": {"num_cpus": settings["cpus"]},
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
    }
    start = time.perf_counter()
    run_simulation(server, client, settings["parties"], backend_config=backend)
    seconds = time.perf_counter() - start
    if "state" not in final:
        raise SystemExit("Flower's ServerApp ended without a final model (see the log above)")
    flat = np.concatenate([t.reshape(-1).double().numpy() for t in final["state"].values()])
    np.save(out_path, flat)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    # Ray pickles the ClientApp by reference only if its module is importable by name; run
    # as a script it would be __main__, which the workers cannot import (and `arrays`, a
    # cached function, cannot be pickled by value). The script's folder is on their path.
    import horizontal_flower

    horizontal_flower.main()
