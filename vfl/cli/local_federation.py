"""A whole federation on this machine: certificates, a coordinator and one party node per
party of a sample job, each a separate `vfl` process on 127.0.0.1.

`vfl demo` and the end-to-end tests use it; it is also the quickest way to see what a
deployment looks like (every config file it writes is the kind an operator writes). Each
party.toml gets a [policy] that accepts the defaults plus what the sample job asks for
(the plain samples train with protection "none", which the default policy refuses).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from coordinator.certs import init_pki
from vfl.config.party_policy import PartyPolicy
from vfl.errors import PeerUnavailableError
from vfl.remote import connect

DATASET = "data"
"""The name each party registers its table under in these generated configs."""


class LocalFederation:
    """Certificates, configs, logs and processes of one local federation under `root`."""

    def __init__(
        self,
        root: Path,
        sample_job: Path,
        auto_approve: bool = True,
        policies: dict[str, PartyPolicy] | None = None,
        seal: bool = True,
        members: tuple[str, ...] = (),
        coordinator_toml: str = "",
        party_toml: dict[str, str] | None = None,
        database: str = "sqlite:///coordinator.db",
    ) -> None:
        self.root = root
        self.seal = seal
        """Seal envelope bodies end to end (party.toml `seal`); off only to measure it."""
        self.sample_job = sample_job
        self.sample = tomllib.loads(sample_job.read_text())
        self.parties: list[str] = [p["name"] for p in self.sample["parties"]]
        self.auto_approve = auto_approve
        self.policies = policies or {}  # by party; default: sample_policy(self.sample)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.address = ""
        self.coordinator_toml = coordinator_toml
        """Tables appended to coordinator.toml ([limits], [relay], [reports])."""
        self.database = database
        """The coordinator's store URL (relative SQLite paths resolve against `root`)."""
        self.party_toml = party_toml or {}
        """By party: top-level keys added to its party.toml (say `inbox_budget_mb = 1`)."""
        # an operator issues one certificate per member of the federation, not per job
        issued = [*self.parties, *(m for m in members if m not in self.parties)]
        init_pki(root / "certs", ["127.0.0.1", "localhost"], issued)

    # -- processes ---------------------------------------------------------------------
    def start_coordinator(self) -> str:
        config = self.root / "coordinator.toml"
        listen = self.address or "127.0.0.1:0"
        config.write_text(
            f'listen = "{listen}"\ndatabase = "{self.database}"\n'
            '[tls]\nca = "certs/ca.pem"\ncert = "certs/coordinator.pem"\n'
            'key = "certs/coordinator.key"\n' + self.coordinator_toml
        )
        port_file = self.root / "coordinator.port"
        port_file.unlink(missing_ok=True)
        self._spawn(
            "coordinator",
            ["coordinator", "serve", "--config", str(config), "--port-file", str(port_file)],
        )
        self._wait(port_file.exists, "the coordinator to listen", "coordinator")
        self.address = port_file.read_text().strip()
        return self.address

    def start_party(self, name: str) -> None:
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        spec = next(p for p in self.sample["parties"] if p["name"] == name)
        source = (self.sample_job.parent / spec["data"]).resolve()
        (folder / "party.toml").write_text(
            f'name = "{name}"\ncoordinator = "{self.address}"\n'
            f"auto_approve = {'true' if self.auto_approve else 'false'}\n"
            "heartbeat_s = 2\nreconnect_max_s = 1\n"
            f"seal = {'true' if self.seal else 'false'}\n"
            + "".join(f"{line}\n" for line in self.party_toml.get(name, "").splitlines())
            + f'[tls]\nca = "../certs/ca.pem"\ncert = "../certs/{name}.pem"\n'
            f'key = "../certs/{name}.key"\n'
            f'[[datasets]]\nname = "{DATASET}"\nsource = "{source}"\n'
            + policy_toml(self.policies.get(name) or sample_policy(self.sample))
        )
        self._spawn(name, ["party", "serve", "--config", str(folder / "party.toml")])

    def start(self) -> None:
        self.start_coordinator()
        for name in self.parties:
            self.start_party(name)

    def wait_connected(self, parties: list[str] | None = None, limit_s: float = 120) -> None:
        """Until every party (or those named) holds its stream to the coordinator."""
        wanted = set(parties if parties is not None else self.parties)
        client = connect(self.address, self.root / "certs", "operator")
        try:
            deadline = time.monotonic() + limit_s
            while True:
                try:
                    connected = {p.name for p in client.parties() if p.connected}
                except PeerUnavailableError:
                    connected = set()
                if wanted <= connected:
                    return
                for name in wanted - connected:
                    if name in self.processes and self.processes[name].poll() is not None:
                        tail = (self.root / f"{name}.log").read_text()[-2000:]
                        raise PeerUnavailableError(f"party {name} exited:\n{tail}")
                if time.monotonic() > deadline:
                    raise PeerUnavailableError(
                        f"parties {sorted(wanted - connected)} never connected"
                    )
                time.sleep(0.1)
        finally:
            client.close()

    def kill(self, name: str) -> None:
        """kill -9: no clean-up, no goodbye."""
        proc = self.processes.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_party(self, name: str) -> None:
        """A clean stop (SIGTERM) of one process."""
        self._terminate(self.processes.pop(name))

    def stop(self) -> None:
        """SIGTERM to every process at once, then wait for each: one at a time, the nodes
        still up would spend the coordinator's shutdown retrying to reach it."""
        processes = [self.processes.pop(name) for name in list(self.processes)]
        for proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in processes:
            self._terminate(proc)

    @staticmethod
    def _terminate(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- jobs --------------------------------------------------------------------------
    def job_spec(self, **train: Any) -> Path:
        """The sample job with data named by registered dataset, and `train` overrides."""
        return self.named_data_spec(self.sample_job, DATASET, "job.toml", train=train)

    def named_data_spec(self, job: Path, dataset: str, out: str, **tables: dict[str, Any]) -> Path:
        """`job` with every party's data named `dataset` (registered at each node, say by
        `dataset_toml`) and the keys of `tables` set (`train={...}`, `predict={...}`),
        written to `root/out`."""
        lines = [
            f'data = "{dataset}"' if line.strip().startswith("data =") else line
            for line in job.read_text().splitlines()
        ]
        text = "\n".join(lines) + "\n"
        for table, keys in tables.items():
            for key, value in keys.items():
                rendered = f'"{value}"' if isinstance(value, str) else str(value).lower()
                text = _set_key(text, table, key, rendered)
        path = self.root / out
        path.write_text(text)
        return path

    def cli_args(self, identity: str = "operator") -> list[str]:
        return [
            "--coordinator",
            self.address,
            "--certs",
            str(self.root / "certs"),
            "--as",
            identity,
        ]

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.root / f"{name}.log").open("ab")
        # Every process here shares this machine's cores: with torch's default of one
        # intra-op thread per core each, a dozen nodes oversubscribe them and OpenMP's
        # spinning threads wait on each other (one local epoch went from 0.14 s to 2.1 s on
        # 2 loaded cores). One thread each, as Ray gives its workers; an explicit
        # OMP_NUM_THREADS in the environment wins.
        env = {"OMP_NUM_THREADS": "1", **os.environ, "PYTHONUNBUFFERED": "1"}
        self.processes[name] = subprocess.Popen(  # noqa: S603 (our own interpreter and CLI)
            [sys.executable, "-m", "vfl.cli.main", "-v", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            env=env,
        )

    def _wait(self, condition: Any, what: str, name: str, limit_s: float = 60) -> None:
        deadline = time.monotonic() + limit_s
        while not condition():
            proc = self.processes[name]
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.root / f"{name}.log").read_text()[-2000:]
                raise PeerUnavailableError(f"{name} did not start ({what}):\n{tail}")
            time.sleep(0.05)


def sample_policy(sample: dict[str, Any]) -> PartyPolicy:
    """The default policy, widened to the align protocol and protection `sample` uses."""
    default = PartyPolicy()
    protocol = sample.get("align", {}).get("protocol", "ecdh")
    protection = sample.get("train", {}).get("protection", "paillier")
    return PartyPolicy.model_validate(
        {
            "align_protocols": list(dict.fromkeys([*default.align_protocols, protocol])),
            "protections": list(dict.fromkeys([*default.protections, protection])),
        }
    )


def policy_toml(policy: PartyPolicy) -> str:
    return (
        "[policy]  # the jobs this party accepts; a job outside it is declined at approval\n"
        f"align_protocols = {json.dumps(list(policy.align_protocols))}\n"
        f"protections = {json.dumps(list(policy.protections))}\n"
        f"min_key_bits = {policy.min_key_bits}\n"
        f"require_label_dp = {json.dumps(policy.require_label_dp)}\n"
    )


def dataset_toml(job: Path, name: str) -> dict[str, str]:
    """By party of `job`: the [[datasets]] entry registering its `data` (relative to the
    job's folder) under `name`, for LocalFederation's `party_toml`."""
    spec = tomllib.loads(job.read_text())
    return {
        p["name"]: f'[[datasets]]\nname = "{name}"\nsource = "{(job.parent / p["data"]).resolve()}"'
        for p in spec["parties"]
    }


def _set_key(text: str, table: str, key: str, value: str) -> str:
    """`key = value` in `[table]` of a TOML text: replaced, else added (with the table)."""
    lines = text.splitlines()
    header = f"[{table}]"
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return text + f"\n{header}\n{key} = {value}\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start + 1, end):
        if lines[i].split("=")[0].strip() == key:
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"
