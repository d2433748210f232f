"""coordinator.toml: where the coordinator listens, its certificates, store and relay limits.

    listen = "0.0.0.0:50051"
    database = "sqlite:///coordinator.db"   # or postgresql+psycopg://user@host/db
    state_dir = "coordinator-state"         # hosted programs' keys, checkpoints, models
    [tls]
    ca = "certs/ca.pem"
    cert = "certs/coordinator.pem"
    key = "certs/coordinator.key"
    [limits]                                # what one certificate holder can occupy
    hello_timeout_s = 10
    [metrics]                               # Prometheus endpoint, off unless enabled
    enabled = true
    listen = "127.0.0.1:9464"

Relative paths (including a relative SQLite file) resolve against the file's folder.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from vfl.config.loading import parse_model, read_toml
from vfl.config.metrics_config import MetricsConfig
from vfl.errors import ConfigError

STATE_DIR = "coordinator-state"
"""The default folder of the coordinator's hosted programs, beside its SQLite database."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsFiles(_Strict):
    """The `[tls]` table: CA, certificate and key files for mutual TLS."""

    ca: Path
    """The federation's CA certificate: peers must present a certificate it signed."""
    cert: Path
    """This process's certificate (PEM)."""
    key: Path
    """This process's private key (PEM, mode 0600)."""
    crl: Path | None = None
    """The CA's revocation list (`crl.pem` from `vfl certs revoke`). The coordinator refuses
    certificates it revokes and reloads it when the file changes; a party refuses peers'
    sealing keys signed with them (it also takes newer lists the coordinator forwards)."""

    def resolved(self, base: Path) -> TlsFiles:
        return TlsFiles(
            ca=base / self.ca,
            cert=base / self.cert,
            key=base / self.key,
            crl=None if self.crl is None else base / self.crl,
        )

    def read(self) -> tuple[bytes, bytes, bytes]:
        out = []
        for what, path in (("ca", self.ca), ("cert", self.cert), ("key", self.key)):
            try:
                out.append(path.read_bytes())
            except OSError as exc:
                raise ConfigError(f"tls.{what}: cannot read {path} ({exc.strerror})") from None
        return out[0], out[1], out[2]


class RelayLimits(_Strict):
    """The `[relay]` table: sizes of envelopes, slices and mailboxes."""

    max_message_bytes: int = Field(default=512 << 20, ge=1024)
    """Largest envelope one party may send (it travels in chunks; no 4 MiB ceiling)."""
    chunk_bytes: int = Field(default=1 << 20, ge=1024, le=3 << 20)
    """Size of one slice of an envelope on the stream."""
    mailbox_messages: int = Field(default=4096, ge=1)
    """Envelopes held at most per (job, addressed party) before senders are told to wait."""
    mailbox_bytes: int = Field(default=1 << 30, ge=1024)
    """Bytes held at most per (job, addressed party) (default 1 GiB)."""
    job_messages: int = Field(default=8192, ge=1)
    """Envelopes held at most per job, over all its addressed parties (default 8192)."""
    job_bytes: int = Field(default=2 << 30, ge=1024)
    """Bytes held at most per job, over all its addressed parties (default 2 GiB): one job
    cannot take the relay's whole disk from the others."""
    sender_messages: int = Field(default=8192, ge=1)
    """Envelopes held at most from one sending party, over all its jobs (default 8192)."""
    sender_bytes: int = Field(default=2 << 30, ge=1024)
    """Bytes held at most from one sending party, over all its jobs (default 2 GiB): a
    member that floods, even through many jobs, waits on its own quota."""


class ReportLimits(_Strict):
    """What programs' reports may cost the coordinator (coordinator/result_book.py)."""

    max_events_per_job: int = Field(default=20_000, ge=100)
    """Events stored at most per job before further step losses and progress are dropped
    (and counted); epochs, final metrics, align counts and privacy are always kept."""
    folded_jobs: int = Field(default=256, ge=1, le=100_000)
    """Jobs whose folded result stays in memory (default 256, most recently used); an older
    one is folded again from the store when read."""


class Retention(_Strict):
    """The `[retention]` table: how long an ended job's bodies and state are kept.

    Relayed bodies of an ended job (succeeded, failed, cancelled) are dropped when it ends,
    and a sweep every `sweep_s` drops any that survived a crash at that moment: none is
    kept longer than `sweep_s` after the end. A failed job may be resumed
    (`vfl job resume`) for `resume_window_s`; parties keep its journal that long
    (party.toml resume_window_s), then purge it.
    """

    resume_window_s: float = Field(default=86_400.0, ge=0, le=30 * 86_400)
    """Seconds after a failure during which `vfl job resume` may continue the job
    (default 86400, one day); 0 turns resuming off."""
    sweep_s: float = Field(default=60.0, gt=0, le=3600)
    """Seconds between sweeps that drop ended jobs' relayed bodies (default 60)."""


class ServerLimits(_Strict):
    """What any one caller can occupy: gRPC calls, party streams, sessions, open transfers.

    A party certificate is enough to open streams, so every resource a stream holds is
    bounded here; admin calls get the calls that party streams may not take.
    """

    max_concurrent_rpcs: int = Field(default=64, ge=4, le=1024)
    """gRPC calls served at once (default 64); the thread pool has exactly this many workers,
    so a call beyond it is refused at once with RESOURCE_EXHAUSTED instead of queueing."""
    max_party_streams: int = Field(default=48, ge=1)
    """`Party.Connect` streams open at once, before or after Hello (default 48); each holds
    one worker, the rest stay for admin calls. Must be below max_concurrent_rpcs."""
    hello_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """Seconds a new party stream may take to send Hello before it is closed (default 10)."""
    session_silence_s: float = Field(default=30.0, gt=0)
    """A party session that sent nothing (not even a heartbeat) for this long is dead
    (default 30, six missed 5 s heartbeats): it is closed, and its identity may connect
    again. Keep it above the parties' heartbeat_s."""
    open_transfer_bytes: int = Field(default=512 << 20, ge=1024)
    """Bytes one stream may hold in incomplete chunked transfers (default 512 MiB, one
    largest envelope); at least relay.max_message_bytes."""
    transfer_idle_s: float = Field(default=60.0, gt=0)
    """An incomplete transfer that got no slice for this long is dropped (default 60)."""

    @model_validator(mode="after")
    def _check_headroom(self) -> ServerLimits:
        if self.max_party_streams >= self.max_concurrent_rpcs:
            raise ValueError(
                f"limits.max_party_streams = {self.max_party_streams} leaves no call for admin "
                f"requests; set it below limits.max_concurrent_rpcs = {self.max_concurrent_rpcs}"
            )
        return self


class CoordinatorConfig(_Strict):
    """coordinator.toml: see the module docstring for an example."""

    listen: str = "127.0.0.1:50051"
    """host:port to serve on; port 0 picks a free one (see --port-file)."""
    database: str = "sqlite:///coordinator.db"
    """SQLAlchemy URL of the store; Alembic migrations run at start."""
    state_dir: Path | None = None
    """The folder (0700) of what the coordinator's hosted programs keep (the horizontal
    aggregator): its sealing key, its SQLite (ledger, journal, nonce counters), each job's
    checkpoints and model. Default: `coordinator-state` next to a SQLite database, or in
    the working folder with another database."""
    insecure: bool = False
    """Plain TCP without TLS: only for development, and only on a loopback address."""
    tls: TlsFiles | None = None
    """Required unless insecure."""
    relay: RelayLimits = Field(default_factory=RelayLimits)
    """[relay]: sizes of envelopes, slices and mailboxes; see RelayLimits."""
    reports: ReportLimits = Field(default_factory=ReportLimits)
    """[reports]: what programs report (see coordinator/result_book.py)."""
    limits: ServerLimits = Field(default_factory=ServerLimits)
    """Bounds on what callers may hold open; see ServerLimits."""
    retention: Retention = Field(default_factory=Retention)
    """[retention]: how long ended jobs' bodies are kept and failed jobs may resume."""
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    """[metrics]: the Prometheus endpoint (off by default; docs/operations.md)."""

    def hosted_state_dir(self) -> Path:
        """`state_dir`, or its default beside the SQLite database."""
        if self.state_dir is not None:
            return self.state_dir
        url = sa.make_url(self.database)
        if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
            return Path(url.database or "").parent / STATE_DIR
        return Path(STATE_DIR)

    @model_validator(mode="after")
    def _check_security(self) -> CoordinatorConfig:
        if self.insecure and not is_loopback(self.listen):
            raise ValueError(
                f"insecure = true is allowed only on a loopback address, not {self.listen!r}; "
                "set [tls] or listen on 127.0.0.1"
            )
        if not self.insecure and self.tls is None:
            raise ValueError("[tls] is required (ca, cert, key); run `vfl certs init`")
        if self.limits.open_transfer_bytes < self.relay.max_message_bytes:
            raise ValueError(
                f"limits.open_transfer_bytes = {self.limits.open_transfer_bytes} is below "
                f"relay.max_message_bytes = {self.relay.max_message_bytes}; raise it"
            )
        return self


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_coordinator_config(path: Path) -> CoordinatorConfig:
    config = parse_model(CoordinatorConfig, read_toml(path), source=str(path))
    base = path.resolve().parent
    url = sa.make_url(config.database)
    updates: dict[str, object] = {}
    local = url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:")
    if local and not Path(url.database or "").is_absolute():
        relative = url.set(database=str(base / (url.database or "")))
        updates["database"] = relative.render_as_string(hide_password=False)
    if config.tls is not None:
        updates["tls"] = config.tls.resolved(base)
    if config.state_dir is not None and not config.state_dir.is_absolute():
        updates["state_dir"] = base / config.state_dir
    return config.model_copy(update=updates)
