"""The table of `vfl` subcommands: name → module and one-line help.

Kept free of heavy imports so `vfl` imports only the module of the command it runs:
`vfl coordinator serve` never loads torch, and every command starts faster.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": (
        "vfl.cli.simulate_cmd",
        "run a job with every party in this process (or a Ray actor each)",
    ),
    "predict": ("vfl.cli.predict_cmd", "score new rows with a registered model (simulator)"),
    "audit": ("vfl.cli.audit_cmd", "simulate a job and mount privacy attacks on it"),
    "demo": ("vfl.cli.demo_cmd", "run the sample vertical job, then predict with its model"),
    "psi": ("vfl.cli.psi_cmd", "align two local ID files with private set intersection"),
    "split": ("vfl.cli.split_cmd", "cut a CSV into sample holders' CSVs (horizontal, label skew)"),
    "certs": ("vfl.cli.certs_cmd", "create mTLS certificates"),
    "coordinator": ("vfl.cli.coordinator_cmd", "run the coordinator"),
    "party": ("vfl.cli.party_cmd", "run or steer a party node"),
    "job": ("vfl.cli.job_cmd", "submit and follow jobs"),
    "doctor": ("vfl.cli.doctor_cmd", "check a party's or the coordinator's setup, one line each"),
    "model": ("vfl.cli.model_cmd", "list, show, delete or export (ONNX) trained model parts"),
    "dashboard": ("vfl.cli.dashboard_cmd", "open the coordinator admin or a party's dashboard"),
}


def help_for(name: str) -> str:
    return COMMANDS[name][1]
