"""A party operator's decision on a pending job, checked against party.toml [policy].

`vfl party approve` and the party dashboard take the same path: read the job's spec from
the coordinator with the party's own certificate, check it against the party's [policy],
decline it (the job fails, naming this party and the rule) if outside, approve otherwise.
An operator may also refuse a job that is inside policy, with a reason of their own.
"""

from __future__ import annotations

import json

import grpc

from vfl.config.job_spec import JobSpec
from vfl.config.loading import parse_job
from vfl.config.party_config import PartyConfig
from vfl.errors import PolicyError, VflError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.registry.approval import prediction_refusal
from vfl.registry.locations import node_registry_dir
from vfl.registry.sqlite_registry import SqliteModelRegistry
from vfl.remote import CoordinatorClient, connect
from vfl.runtime.score_sink import OutputPlace


def party_client(config: PartyConfig) -> CoordinatorClient:
    """The admin API as this party (its certificate, or its name on an insecure loopback)."""
    if config.insecure:
        return connect(config.coordinator, identity=config.name, insecure=True)
    assert config.tls is not None, "validated: tls is required unless insecure"
    ca, cert, key = config.tls.read()
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
    return CoordinatorClient(grpc.secure_channel(config.coordinator, creds), [])


def job_spec(client: CoordinatorClient, job_id: str) -> tuple[pb.JobInfo, JobSpec]:
    """The job and its validated spec as the coordinator stores it."""
    job = client.job(job_id)
    if not job.spec_json:
        raise VflError(
            f"job {job_id}: the coordinator sent no job spec, so party.toml [policy] "
            "cannot be checked; upgrade the coordinator"
        )
    return job, parse_job(json.loads(job.spec_json), source=f"job {job_id}: spec")


def approve(config: PartyConfig, client: CoordinatorClient, job_id: str) -> pb.JobInfo:
    """Approve if [policy] accepts the job; otherwise decline it and raise PolicyError."""
    _, spec = job_spec(client, job_id)
    refusal = config.policy.refusal(spec, job_id)
    line = refusal.line if refusal is not None else _prediction_refusal(config, spec, job_id)
    if line is not None:
        client.decline(job_id, line)
        raise PolicyError(f"{line} (declined: the job fails)")
    return client.approve(job_id)


def _prediction_refusal(config: PartyConfig, spec: JobSpec, job_id: str) -> str | None:
    """A prediction job this party cannot run (its part, the output), as the node checks."""
    root = node_registry_dir(config.state_dir)
    registry = SqliteModelRegistry(root) if SqliteModelRegistry.exists(root) else None
    place = OutputPlace(
        config.state_dir / "outputs", confined=True, named=config.outputs, party=config.name
    )
    return prediction_refusal(spec, job_id, config.name, registry, place)


def refuse(client: CoordinatorClient, job_id: str, reason: str) -> pb.JobInfo:
    """Decline the job for this party: it fails, naming this party and `reason`."""
    return client.decline(job_id, reason.strip() or "refused by the party's operator")
