"""Talk to a coordinator from Python: submit a job, follow it, read its result.

    client = vfl.remote.connect("coord.example:50051", certs="certs", identity="operator")
    job_id = client.submit(Path("job.toml").read_text())
    result = client.wait(job_id)          # the same JSON as `vfl simulate --json`

The CLI's `vfl job ...` commands are a thin layer over this class.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from vfl.config.coordinator_config import is_loopback
from vfl.config.phase_plan import TERMINAL
from vfl.errors import ConfigError, PeerUnavailableError, VflError
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc


class CoordinatorClient:
    def __init__(self, channel: grpc.Channel, metadata: list[tuple[str, str]]) -> None:
        self._channel = channel
        self._stub = pb_grpc.AdminStub(channel)  # type: ignore[no-untyped-call]
        self._metadata = metadata

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata, timeout=60)
        except grpc.RpcError as exc:
            code = exc.code()
            detail = exc.details() or str(code)
            if code in (grpc.StatusCode.INVALID_ARGUMENT,):
                raise ConfigError(detail) from None
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise PeerUnavailableError(f"coordinator unreachable: {detail}") from None
            raise VflError(detail) from None

    def submit(self, spec_toml: str) -> str:
        info: pb.JobInfo = self._call("SubmitJob", pb.SubmitJobRequest(spec_toml=spec_toml))
        return info.job_id

    def job(self, job_id: str) -> pb.JobInfo:
        info: pb.JobInfo = self._call("GetJob", pb.JobRef(job_id=job_id))
        return info

    def result(self, job_id: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.job(job_id).result_json)
        return out

    def jobs(self, limit: int = 100) -> list[pb.JobInfo]:
        return list(self._call("ListJobs", pb.ListJobsRequest(limit=limit)).jobs)

    def approve(self, job_id: str) -> pb.JobInfo:
        info: pb.JobInfo = self._call("ApproveJob", pb.JobRef(job_id=job_id))
        return info

    def decline(self, job_id: str, reason: str) -> pb.JobInfo:
        """As a party: refuse a pending job; it fails, naming this party and `reason`."""
        request = pb.DeclineRequest(job_id=job_id, reason=reason)
        info: pb.JobInfo = self._call("DeclineJob", request)
        return info

    def cancel(self, job_id: str) -> pb.JobInfo:
        info: pb.JobInfo = self._call("CancelJob", pb.JobRef(job_id=job_id))
        return info

    def resume(self, job_id: str) -> pb.JobInfo:
        """Run a failed job's failed phase again: every party restarts it from its last
        checkpoint (within the coordinator's [retention] resume_window_s)."""
        info: pb.JobInfo = self._call("ResumeJob", pb.JobRef(job_id=job_id))
        return info

    def logs(self, job_id: str) -> list[pb.LogLine]:
        return list(self._call("JobLogs", pb.JobRef(job_id=job_id)).lines)

    def parties(self) -> list[pb.PartyInfo]:
        return list(self._call("ListParties", pb.ListPartiesRequest()).parties)

    def wait(
        self,
        job_id: str,
        on_update: Callable[[pb.JobInfo], None] | None = None,
        poll_s: float = 0.25,
    ) -> dict[str, Any]:
        """Poll until the job ends; return its result (same JSON as `vfl simulate`)."""
        while True:
            info = self.job(job_id)
            if on_update is not None:
                on_update(info)
            if info.state in TERMINAL:
                out: dict[str, Any] = json.loads(info.result_json)
                return out
            time.sleep(poll_s)

    def close(self) -> None:
        self._channel.close()


def connect(
    address: str,
    certs: Path | str | None = None,
    identity: str = "operator",
    insecure: bool = False,
) -> CoordinatorClient:
    """A client authenticated by `certs/IDENTITY.pem` (or, insecure, on loopback only)."""
    if insecure:
        if not is_loopback(address):
            raise ConfigError(f"--insecure works only with a loopback coordinator, not {address}")
        return CoordinatorClient(grpc.insecure_channel(address), [("vfl-identity", identity)])
    if certs is None:
        raise ConfigError("no certificates: pass --certs DIR (or set VFL_CERTS) or --insecure")
    folder = Path(certs)
    files = [folder / "ca.pem", folder / f"{identity}.pem", folder / f"{identity}.key"]
    missing = [f for f in files if not f.exists()]
    if missing:
        raise ConfigError(f"{missing[0]}: not found; `vfl certs init` writes it")
    ca, cert, key = (f.read_bytes() for f in files)
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
    return CoordinatorClient(grpc.secure_channel(address, creds), [])
