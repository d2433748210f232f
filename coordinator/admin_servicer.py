"""`Admin`: the unary API of the CLI and the dashboard.

Operators (OU=operator certificates) see and steer every job; a party sees the jobs it
takes part in, submits jobs that include itself, and approves or declines only for
itself. Who is asking always comes from the certificate.
"""

from __future__ import annotations

import json

import grpc

from coordinator.certs import Identity
from coordinator.errors import AccessDeniedError, NotFoundError, rpc
from coordinator.identity import peer_identity
from coordinator.lifecycle import JobLifecycle
from coordinator.result_book import ResultBook
from coordinator.results import job_result
from coordinator.sessions import SessionRegistry
from coordinator.store import Job, Store
from vfl.config.loading import MAX_TOML_BYTES
from vfl.crypto.sealing.revocation import CrlFile
from vfl.protocol.v1 import coordinator_pb2 as pb
from vfl.protocol.v1 import coordinator_pb2_grpc as pb_grpc

MAX_SPEC_BYTES = MAX_TOML_BYTES


class AdminServicer(pb_grpc.AdminServicer):
    def __init__(
        self,
        store: Store,
        book: ResultBook,
        lifecycle: JobLifecycle,
        sessions: SessionRegistry,
        insecure: bool,
        revocations: CrlFile | None = None,
    ) -> None:
        self.revocations = revocations  # the CA's CRL: revoked certificates are refused
        self.store = store
        self.book = book
        self.lifecycle = lifecycle
        self.sessions = sessions
        self.insecure = insecure

    def _who(self, context: grpc.ServicerContext) -> Identity:
        return peer_identity(context, self.insecure, self.revocations)

    def _visible(self, who: Identity, job_id: str) -> Job:
        job = self.lifecycle.require(job_id)
        if not who.is_operator and job.party(who.name) is None:
            raise NotFoundError(f"job {job_id!r} not found; `vfl job list` shows the jobs")
        return job

    @rpc
    def SubmitJob(self, request: pb.SubmitJobRequest, context: grpc.ServicerContext) -> pb.JobInfo:  # noqa: N802 (gRPC method name)
        who = self._who(context)
        if len(request.spec_toml) > MAX_SPEC_BYTES:
            raise AccessDeniedError(
                f"job spec of {len(request.spec_toml)} bytes is too large "
                f"(at most {MAX_SPEC_BYTES}); list features in the data, not the spec"
            )
        job = self.lifecycle.submit(request.spec_toml, who.name, who.is_operator)
        return self._info(job)

    @rpc
    def ListJobs(  # noqa: N802 (gRPC method name)
        self, request: pb.ListJobsRequest, context: grpc.ServicerContext
    ) -> pb.ListJobsResponse:
        who = self._who(context)
        limit = request.limit if 0 < request.limit <= 1000 else 100
        jobs = self.store.jobs(limit, party=None if who.is_operator else who.name)
        return pb.ListJobsResponse(jobs=[self._info(j, with_result=False) for j in jobs])

    @rpc
    def GetJob(self, request: pb.JobRef, context: grpc.ServicerContext) -> pb.JobInfo:  # noqa: N802 (gRPC method name)
        return self._info(self._visible(self._who(context), request.job_id))

    @rpc
    def ApproveJob(self, request: pb.JobRef, context: grpc.ServicerContext) -> pb.JobInfo:  # noqa: N802 (gRPC method name)
        who = self._who(context)
        if who.is_operator:
            raise AccessDeniedError("operators cannot approve for a party; the party approves")
        self._visible(who, request.job_id)
        return self._info(self.lifecycle.approve(request.job_id, who.name))

    @rpc
    def DeclineJob(  # noqa: N802 (gRPC method name)
        self, request: pb.DeclineRequest, context: grpc.ServicerContext
    ) -> pb.JobInfo:
        who = self._who(context)
        if who.is_operator:
            raise AccessDeniedError("operators cannot decline for a party; `vfl job cancel` it")
        self._visible(who, request.job_id)
        return self._info(self.lifecycle.decline(request.job_id, who.name, request.reason))

    @rpc
    def CancelJob(self, request: pb.JobRef, context: grpc.ServicerContext) -> pb.JobInfo:  # noqa: N802 (gRPC method name)
        who = self._who(context)
        self._visible(who, request.job_id)
        return self._info(self.lifecycle.cancel(request.job_id, who.name))

    @rpc
    def ResumeJob(self, request: pb.JobRef, context: grpc.ServicerContext) -> pb.JobInfo:  # noqa: N802 (gRPC method name)
        who = self._who(context)
        self._visible(who, request.job_id)
        return self._info(self.lifecycle.resume(request.job_id, who.name))

    @rpc
    def ListParties(  # noqa: N802 (gRPC method name)
        self, request: pb.ListPartiesRequest, context: grpc.ServicerContext
    ) -> pb.ListPartiesResponse:
        self._who(context)
        connected = self.sessions.connected()
        return pb.ListPartiesResponse(
            parties=[
                pb.PartyInfo(
                    name=name,
                    connected=name in connected,
                    last_seen=last_seen,
                    datasets=[
                        pb.Dataset(name=d.name, columns=d.columns, rows=d.rows) for d in datasets
                    ],
                )
                for name, last_seen, datasets in self.store.parties()
            ]
        )

    @rpc
    def JobLogs(self, request: pb.JobRef, context: grpc.ServicerContext) -> pb.JobLogsResponse:  # noqa: N802 (gRPC method name)
        job = self._visible(self._who(context), request.job_id)
        lines = [pb.LogLine(at=at, party=p, text=t) for at, p, t in self.store.logs(job.id)]
        return pb.JobLogsResponse(lines=lines)

    def _info(self, job: Job, with_result: bool = True) -> pb.JobInfo:
        connected = self.sessions.connected()
        info = pb.JobInfo(
            job_id=job.id,
            name=job.name,
            state=job.state,
            error=job.error or "",
            submitted_by=job.submitted_by,
            created_at=job.created_at,
            parties=[
                pb.JobParty(
                    name=p.name, role=p.role, approved=p.approved, connected=p.name in connected
                )
                for p in job.parties
            ],
        )
        if with_result:
            info.spec_json = job.spec_json
            info.result_json = json.dumps(job_result(self.store, self.book, job))
            info.progress.extend(
                pb.ProgressEvent(phase=p.phase, done=p.done, total=p.total)
                for p in self.book.progress(job)
            )
        return info
