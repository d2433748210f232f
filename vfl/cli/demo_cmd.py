"""`vfl demo`: the sample vertical job (breast cancer, hospital + lab) as a real deployment,
aligned by ECDH PSI and trained with the cut layer Paillier-encrypted, then the model it
trained put to use, then what left each party's silo.

Certificates go into a temporary folder; a coordinator and one party node per party start
as separate processes on 127.0.0.1 and talk gRPC with mutual TLS; the job
(`samples/breast/job_paillier.toml`) is submitted, followed with a progress bar, and its
metrics printed. Then each node's model registry is listed (as `vfl model list --workdir
STATE_DIR` prints it) and the prediction job (`samples/breast/predict_paillier.toml`, the
held-back patients, registered at each node as dataset "predict") scores new rows with
that model, under Paillier too: the scores land at the hospital only, and its labels give
the metrics of the `predict` column. Last, each party's ledger of both jobs (as `vfl party
ledger --config party.toml --job ID` prints it): each kind of message sent, to whom, how
many, bytes, protection and sealing. Every process is stopped on exit, and the temporary
folder removed.
`--in-process` runs the same two jobs in the simulator instead (models in `.vfl/models`,
scores in `.vfl/outputs`; the simulator keeps no per-message ledger).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from vfl.api import new_job_id, predict
from vfl.cli.commands import help_for
from vfl.cli.job_cmd import follow
from vfl.cli.ledger_view import LEGEND, ledger_report
from vfl.cli.local_federation import LocalFederation, dataset_toml, sample_policy
from vfl.cli.model_cmd import listing
from vfl.cli.progress import ProgressReporter, print_summary
from vfl.cli.simulate_cmd import run_job
from vfl.config.job_spec import VerticalJobSpec
from vfl.config.loading import load_job
from vfl.errors import ConfigError
from vfl.registry.locations import SIMULATOR_HOME
from vfl.remote import connect

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PREDICT_DATASET = "predict"
"""The name each demo node registers the sample's held-back rows under."""
TRAIN_JOB = Path("breast") / "job_paillier.toml"
"""The demo's training job under the samples folder: ECDH PSI, protection = "paillier"."""
PREDICT_JOB = Path("breast") / "predict_paillier.toml"
"""Its prediction job: the held-back patients, scored under the same protection."""
SCORES = "scores.csv"
"""The prediction job's output at the hospital (under its state_dir/outputs deployed)."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("demo", help=help_for("demo"))
    p.add_argument("--samples", type=Path, default=SAMPLES, help="the samples folder")
    p.add_argument("--json", type=Path, help="write the training job's result JSON here")
    p.add_argument("--in-process", action="store_true", help="simulate instead of deploying")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    job = args.samples / TRAIN_JOB
    predict_job = args.samples / PREDICT_JOB
    for path in (job, predict_job):
        if not path.exists():
            raise ConfigError(
                f"{path}: sample job not found; pass --samples DIR (the repo's samples/)"
            )
    print(f"demo: {job} — a hospital (labels) and a lab train one model; rows stay home")
    print("demo: patients aligned by ECDH PSI; the lab's cut layer crosses Paillier-encrypted")
    if args.in_process:
        return _in_process(job, predict_job, args.json)
    with tempfile.TemporaryDirectory(prefix="vfl-demo-") as tmp:
        root = Path(tmp)
        fed = LocalFederation(root, job, party_toml=dataset_toml(predict_job, PREDICT_DATASET))
        try:
            print(f"demo: certificates, configs and logs in {tmp}", flush=True)
            protections = ", ".join(sample_policy(fed.sample).protections)
            print(f"demo: each party.toml [policy] accepts protections {protections}", flush=True)
            fed.start()
            print(
                f"demo: coordinator on {fed.address} (mTLS); starting {', '.join(fed.parties)}",
                flush=True,
            )
            fed.wait_connected()
            client = connect(fed.address, root / "certs", "operator")
            try:
                job_id = client.submit(fed.job_spec().read_text())
                print(f"demo: submitted job {job_id}; every party approves it", flush=True)
                code = follow(client, job_id, args.json)
                if code != 0:
                    return code
                for party in fed.parties:
                    state = root / party / "state"
                    print(f"demo: `vfl model list --workdir {state}` (the {party} node):")
                    for line in listing(state):
                        print(f"  {line}")
                spec = fed.named_data_spec(
                    predict_job,
                    PREDICT_DATASET,
                    "predict.toml",
                    predict={"model": job_id, "output": SCORES},
                )
                predict_id = client.submit(spec.read_text())
                print(
                    f"demo: submitted prediction job {predict_id} ({predict_job.name}: model "
                    f"{job_id} on the held-back patients, PSI first)",
                    flush=True,
                )
                code = follow(client, predict_id, None)
            finally:
                client.close()
            if code == 0:
                print(
                    "demo: the scores are at the hospital only (not at the lab, not at the "
                    f"coordinator); {tmp} is removed on exit"
                )
                _print_ledgers(root, fed.parties, [job_id, predict_id])
            return code
        finally:
            fed.stop()


def _print_ledgers(root: Path, parties: list[str], job_ids: list[str]) -> None:
    """Each node's ledger of the demo's jobs: what crossed, to whom, encrypted how."""
    print(f"demo: {LEGEND}")
    for party in parties:
        print(f"demo: what left the {party}'s silo (`vfl party ledger --config party.toml`):")
        for job_id in job_ids:
            for line in ledger_report(root / party / "state", job_id):
                print(f"  {line}")


def _in_process(job: Path, predict_job: Path, json_path: Path | None) -> int:
    """Train and predict in the simulator: parts registered under `.vfl/models`."""
    spec = load_job(job)
    job_id = new_job_id(spec)
    code = run_job(job, json_path, None, home=SIMULATOR_HOME, job_id=job_id)
    if code != 0:
        return code
    print(f"demo: `vfl model list` (parts of {job_id}; each party's registry under .vfl/models):")
    for line in listing(SIMULATOR_HOME, job_id):
        print(f"  {line}")
    outputs = (SIMULATOR_HOME / "outputs").resolve()
    outputs.mkdir(parents=True, exist_ok=True)
    loaded = load_job(predict_job)
    assert isinstance(loaded, VerticalJobSpec) and loaded.predict is not None, predict_job
    predict_id = new_job_id(loaded)
    update = {"model": job_id, "output": str(outputs / f"{predict_id}-{SCORES}")}
    raw = loaded.model_dump(mode="json")
    raw["predict"] = {**raw["predict"], **update}
    spec_p = VerticalJobSpec.model_validate(raw).with_base_dir(loaded.base_dir)
    print(f"demo: prediction job {predict_id} ({predict_job.name}: model {job_id})", flush=True)
    torch.set_num_threads(int(os.environ.get("VFL_TORCH_THREADS", "1")))
    with ProgressReporter(spec_p.train.epochs) as progress:
        result = predict(spec_p, home=SIMULATOR_HOME, job_id=predict_id, reporter=progress)
    print_summary(result)
    return 0 if result.status == "succeeded" else 1
