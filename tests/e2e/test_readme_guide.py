"""README's "Deploy across organizations", run as written: four organizations (the CA, the
coordinator, a hospital and a lab), each in its own folder, each block a separate process.

Only the files the guide's *send* steps name move between folders. Substitutions, the
only ones: `coord.example.org` and `0.0.0.0` become `127.0.0.1`, and port `50051` a free
port. `vfl` on PATH is this checkout's CLI run by this interpreter (PYTHONPATH set), so it
is this tree that runs, in a worktree as in CI. Each party gets the breast sample's table
as its data. The job must succeed with metrics, and each party's ledger must say its
cut-layer messages crossed Paillier-encrypted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.readme_guide import Step, StepKind, guide_steps
from vfl.errors import PeerUnavailableError
from vfl.remote import connect

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DATA = {
    "hospital": ROOT / "samples" / "breast" / "hospital.csv",
    "lab": ROOT / "samples" / "breast" / "lab.csv",
}
"""Each party's table, copied into its folder before the guide starts."""
COORDINATOR = "coordinator"
HOST, PORT = "coord.example.org", "50051"
KEYS = {
    "ca": {"ca/ca.key"},
    "coordinator": {"certs/coordinator.key", "certs/operator.key"},
    "hospital": {"certs/hospital.key"},
    "lab": {"certs/lab.key"},
}
"""The certificates' private keys each organization holds at the end: its own, made in its
folder (the nodes' own sealing and Paillier keys, under state/, are theirs too)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Guide:
    """The organizations' folders, their environment and the servers they left running."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.servers: dict[str, subprocess.Popen[bytes]] = {}
        self.outputs: list[tuple[Step, str]] = []
        shim = root / "bin" / "vfl"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vfl.cli.main "$@"\n')
        shim.chmod(0o755)
        path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.env = {
            **os.environ,
            "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": path,
            "OMP_NUM_THREADS": "1",
            "COLUMNS": "200",
        }

    def folder(self, org: str) -> Path:
        path = self.root / org
        path.mkdir(exist_ok=True)
        return path

    def text(self, literal: str) -> str:
        return (
            literal.replace(HOST, "127.0.0.1")
            .replace("0.0.0.0", "127.0.0.1")
            .replace(PORT, str(self.port))
        )

    def run(self, step: Step) -> None:
        print(f"guide: {step.kind.value} {step.org or ''} {step.file}".rstrip(), flush=True)
        if step.kind is StepKind.SEND:
            for move in step.handovers:
                src = self.folder(move.src) / move.src_path
                assert src.is_file(), f"guide: {move.src} has no {move.src_path} to send"
                dst = self.folder(move.dst) / move.dst_path
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
        elif step.kind is StepKind.FILE:
            (self.folder(step.org) / step.file).write_text(self.text(step.text))
        elif step.kind is StepKind.SERVER:
            self._serve(step)
        else:
            self._commands(step)

    def _commands(self, step: Step) -> None:
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", self.text(step.text)],
            cwd=self.folder(step.org),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, (
            f"guide: {step.org}'s block failed (exit {proc.returncode}):\n{step.text}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n{self.server_logs()}"
        )
        self.outputs.append((step, proc.stdout))
        if "vfl job submit" in step.text:  # the guide: "It prints the job's ID ($JOB below)"
            self.env["JOB"] = proc.stdout.strip().splitlines()[-1]

    def _serve(self, step: Step) -> None:
        folder = self.folder(step.org)
        self.servers[step.org] = subprocess.Popen(
            ["bash", "-c", self.text(step.text)],
            cwd=folder,
            env=self.env,
            stdout=(folder / "serve.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one at the end
        )
        if step.org == COORDINATOR:
            self._until(step.org, self._listening, "listen")
        else:
            self._until(step.org, lambda: self._connected(step.org), "connect")

    def _until(self, org: str, ready: Callable[[], bool], what: str, limit_s: float = 120) -> None:
        deadline = time.monotonic() + limit_s
        while not ready():
            exited = self.servers[org].poll() is not None
            assert not exited and time.monotonic() < deadline, (
                f"guide: {org}'s server did not {what}\n{self.server_logs()}"
            )
            time.sleep(0.2)

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def _connected(self, party: str) -> bool:
        client = connect(self.address, self.root / COORDINATOR / "certs", "operator")
        try:
            return any(p.name == party and p.connected for p in client.parties())
        except PeerUnavailableError:
            return False
        finally:
            client.close()

    def server_logs(self) -> str:
        return "\n".join(
            f"--- {org} server log:\n{(self.root / org / 'serve.log').read_text()[-3000:]}"
            for org in self.servers
        )

    def stop(self) -> None:
        for proc in self.servers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.servers.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def output(self, org: str, command: str) -> str:
        (found,) = [out for step, out in self.outputs if step.org == org and command in step.text]
        return found


@pytest.mark.timeout(600)  # about a minute on idle cores; a Paillier job on busy ones: more
def test_the_readme_guide_deploys_a_protected_job_across_four_organizations(
    tmp_path: Path,
) -> None:
    steps = guide_steps(README)
    assert {s.org for s in steps} >= {"ca", COORDINATOR, "hospital", "lab"}
    guide = Guide(tmp_path)
    for party, source in DATA.items():
        shutil.copyfile(source, guide.folder(party) / source.name)
    try:
        for step in steps:
            guide.run(step)
    finally:
        guide.stop()

    result = json.loads((tmp_path / COORDINATOR / "result.json").read_text())
    assert result["status"] == "succeeded", result["error"]
    assert result["align"]["protocol"] == "ecdh"
    assert result["metrics"]["validation"]["auc"] > 0.8  # two epochs of a real model
    # what each party sees in its own ledger: its cut-layer messages crossed encrypted
    lab = guide.output("lab", "vfl party ledger").splitlines()
    hospital = guide.output("hospital", "vfl party ledger").splitlines()
    for lines, kind, peer in (
        (lab, "split_paillier.EncryptedActivations", "hospital"),
        (hospital, "split_paillier.EncryptedGradients", "lab"),
    ):
        (line,) = [x for x in lines if kind in x]
        assert line.split()[1] == peer and "paillier" in line.split(), line
    # no private key and no data file crossed: each organization holds only its own
    certificate_keys = {Path(k).name for keys in KEYS.values() for k in keys}
    for org, keys in KEYS.items():
        found = (tmp_path / org).rglob("*.key")
        held = {
            p.relative_to(tmp_path / org).as_posix() for p in found if p.name in certificate_keys
        }
        assert held == keys, org
    for party, source in DATA.items():
        holders = [o for o in KEYS if (tmp_path / o / source.name).exists()]
        assert holders == [party]


def test_the_guide_shows_each_config_file_whole() -> None:
    """coordinator.toml and both party.toml are in the guide, and the job is protected."""
    files = {(s.org, s.file): s.text for s in guide_steps(README) if s.kind is StepKind.FILE}
    assert set(files) == {
        (COORDINATOR, "coordinator.toml"),
        ("hospital", "party.toml"),
        ("lab", "party.toml"),
        (COORDINATOR, "job.toml"),
    }
    job = files[(COORDINATOR, "job.toml")]
    assert 'protocol = "ecdh"' in job and 'protection = "paillier"' in job
