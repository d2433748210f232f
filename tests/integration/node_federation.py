"""A whole deployment in this process: a coordinator with mTLS on 127.0.0.1:0 and real
party nodes (their SQLite, their programs, their sealing), each offering one dataset
registered as "data". The breast sample by default; benchmarks/sealing.py brings its own.
Each node's [policy] accepts what the breast sample needs (protection "none") unless a
test passes its own.

Faster than the process tests in tests/e2e and just as real on the wire; the coordinator
object is at hand, so a test can record every body it relays or make it misbehave.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from coordinator.authority import CertificateAuthority
from coordinator.certs import init_pki
from coordinator.mailbox import PutResult
from coordinator.server import CoordinatorServer
from parties.node import PartyNode
from tests.integration.harness import start_coordinator, wait_for
from vfl.config.coordinator_config import TlsFiles
from vfl.config.metrics_config import MetricsConfig
from vfl.config.party_config import REPORT_KINDS, DatasetConfig, PartyConfig, ReportKind
from vfl.config.party_policy import PartyPolicy

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "breast"
PARTIES = ("hospital", "lab")
TERMINAL = ("succeeded", "failed", "cancelled")
BREAST_POLICY = PartyPolicy(protections=("paillier", "none"))
"""The defaults plus protection "none", which the breast sample trains with."""


@dataclass
class NodeFederation:
    root: Path
    server: CoordinatorServer
    nodes: dict[str, PartyNode] = field(default_factory=dict)
    relayed: list[bytes] = field(default_factory=list)
    routes: list[tuple[str, str]] = field(default_factory=list)  # (src, dst) per relayed body

    def run_job(self, spec_toml: str, limit_s: float = 600) -> tuple[str, str, str | None]:
        """Submit a job and wait for it to end: (job id, state, error)."""
        job = self.server.lifecycle.submit(spec_toml, "operator", is_operator=True)
        deadline = time.monotonic() + limit_s
        while (state := self.server.store.job(job.id)) is None or state.state not in TERMINAL:
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for job {job.id}")
            time.sleep(0.05)
        return job.id, state.state, state.error

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        self.server.stop(0)
        for node in self.nodes.values():
            node.store.close()


def breast_job(epochs: int) -> str:
    """The breast sample job with data named by registered dataset."""
    lines = [
        'data = "data"' if line.startswith("data =") else line
        for line in (SAMPLE / "job.toml").read_text().splitlines()
    ]
    return "\n".join(lines).replace("epochs = 20", f"epochs = {epochs}")


def start(
    root: Path,
    seal: bool = True,
    report: dict[str, tuple[ReportKind, ...]] | None = None,
    datasets: dict[str, Path] | None = None,
    policies: dict[str, PartyPolicy] | None = None,
    metrics: MetricsConfig | None = None,
    crl: bool = False,
) -> NodeFederation:
    """`metrics`: every process's [metrics] (port 0 gives each its own free port). With
    `crl`, the coordinator reads certs/crl.pem (CertificateAuthority(certs) revokes)."""
    data = datasets or {name: SAMPLE / f"{name}.csv" for name in PARTIES}
    pki = root / "certs"
    init_pki(pki, ["127.0.0.1"], list(data))
    crl_path = CertificateAuthority(pki).write_crl() if crl else None
    tls = TlsFiles(
        ca=pki / "ca.pem", cert=pki / "coordinator.pem", key=pki / "coordinator.key", crl=crl_path
    )
    server = start_coordinator(root, tls=tls, metrics=metrics)
    fed = NodeFederation(root, server)
    put = server.mailbox.put

    def recording_put(
        job_id: str, src: str, dst: str, kind: str, seq: str, data: bytes
    ) -> PutResult:
        fed.relayed.append(data)
        fed.routes.append((src, dst))
        return put(job_id, src, dst, kind, seq, data)

    server.mailbox.put = recording_put  # type: ignore[method-assign]
    for name, source in data.items():
        config = PartyConfig(
            name=name,
            coordinator=server.address,
            state_dir=root / name,
            auto_approve=True,
            tls=TlsFiles(ca=pki / "ca.pem", cert=pki / f"{name}.pem", key=pki / f"{name}.key"),
            seal=seal,
            report=(report or {}).get(name, REPORT_KINDS),
            heartbeat_s=1.0,
            reconnect_max_s=0.5,
            datasets=[DatasetConfig(name="data", source=str(source))],
            policy=(policies or {}).get(name, BREAST_POLICY),
            metrics=metrics or MetricsConfig(),
        )
        fed.nodes[name] = node = PartyNode(config)
        node.start()
    for node in fed.nodes.values():
        wait_for(node.link.connected.is_set, f"{node.config.name} connects")
    return fed
