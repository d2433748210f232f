"""party.toml: who this party is, where its coordinator is and which datasets it offers.

    name = "hospital"                  # must match the CN of the party's certificate
    coordinator = "coord.example:50051"
    auto_approve = false               # or approve each job: `vfl party approve JOB`
    seal = true                        # seal envelope bodies end to end (the default)
    report = ["progress", "epoch", "metrics"]  # what the coordinator may see (default: all)
    [policy]                           # what this party accepts (vfl/config/party_policy.py)
    align_protocols = ["ecdh", "rsa"]
    protections = ["paillier"]
    min_key_bits = 2048
    require_label_dp = false
    [tls]
    ca = "certs/ca.pem"
    cert = "certs/hospital.pem"
    key = "certs/hospital.key"
    [metrics]                          # Prometheus endpoint, off unless enabled
    enabled = true
    listen = "127.0.0.1:9465"
    [[datasets]]
    name = "breast"                    # jobs name data by this registered name
    source = "data/hospital.csv"       # CSV, Parquet or a SQLAlchemy URL (+ table / query)
    columns = ["age", "bmi"]           # optional: the columns jobs rely on (`vfl doctor`)
    [outputs.scores]                   # where a prediction job may write ([predict] output
    url = "postgresql+psycopg://vfl@db/warehouse"  # = "scores"): a SQLAlchemy URL + table,
    table = "breast_scores"            # or path = "exports/scores.parquet" (.csv/.parquet)
    overwrite = false                  # may a job (predict.overwrite) replace it

A prediction job's spec comes from a peer, so it chooses nothing on this party's disk but
a relative file under `state_dir/outputs`, or the name of an output declared here
(docs/predict.md).

The coordinator learns each dataset's name, columns and row count, never a row, and the
program events this party chooses to `report`; every envelope body is sealed between the
parties (needs [tls]: the sealing key is bound to the party's certificate).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vfl.config.coordinator_config import TlsFiles, is_loopback
from vfl.config.job_spec import PARTY_NAME
from vfl.config.loading import parse_model, read_toml
from vfl.config.metrics_config import MetricsConfig
from vfl.config.party_policy import PartyPolicy
from vfl.config.predict_spec import OUTPUT_NAME, OutputFormat

DATASET_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
ReportKind = Literal["progress", "align", "epoch", "step", "metrics", "curves", "privacy", "output"]
REPORT_KINDS: tuple[ReportKind, ...] = (
    "progress",
    "align",
    "epoch",
    "step",
    "metrics",
    "curves",
    "privacy",
    "output",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(_Strict):
    """One table this party offers to jobs: schema and row count go to the coordinator."""

    name: str = Field(pattern=DATASET_NAME)
    """The name jobs use for this data."""
    source: str
    """A CSV or Parquet path (relative to party.toml) or a SQLAlchemy URL."""
    table: str | None = None
    """With a SQL URL: the table to read."""
    query: str | None = None
    """With a SQL URL: a SELECT to read instead of a table."""
    columns: tuple[str, ...] = ()
    """Columns jobs rely on; `vfl doctor` checks the source has each (empty: not checked)."""


class OutputConfig(_Strict):
    """A place this party lets prediction jobs write scores to (`[outputs.NAME]`): a job
    names it (`[predict] output = "NAME"`) and this party alone resolves it."""

    path: str | None = None
    """A .csv or .parquet file (relative to party.toml); its folder must exist."""
    url: str | None = None
    """A SQLAlchemy URL (with `table`); credentials stay in this file."""
    table: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    """With `url`: the table the scores are written to (replaced in one transaction)."""
    overwrite: bool = False
    """Whether a job may replace an existing output (it must also ask: predict.overwrite)."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.path is None) == (self.url is None):
            raise ValueError(
                "give exactly one of `path` (a .csv or .parquet file) and `url` (a SQLAlchemy "
                "URL, with `table`)"
            )
        if self.url is not None and ("://" not in self.url or self.table is None):
            raise ValueError(
                f"`url` must be a SQLAlchemy URL with `table` beside it (found url = "
                f"{'a URL' if '://' in self.url else repr(self.url)} and table = "
                f'{self.table!r}); add table = "scores"'
            )
        if self.path is not None:
            if self.table is not None:
                raise ValueError("`table` applies only with `url`; drop it or use url")
            if PurePath(self.path).suffix not in (".csv", ".parquet"):
                raise ValueError(
                    f"path {self.path!r} is neither .csv nor .parquet; name the file "
                    "scores.csv or scores.parquet"
                )
        return self

    @property
    def format(self) -> OutputFormat:
        if self.url is not None:
            return OutputFormat.SQL
        assert self.path is not None, "validated: path or url"
        return OutputFormat.PARQUET if self.path.endswith(".parquet") else OutputFormat.CSV


class PartyConfig(_Strict):
    """party.toml: this party's identity, coordinator, data and the jobs it accepts."""

    name: str = Field(pattern=PARTY_NAME)
    """This party's registered name; the coordinator checks it against the certificate."""
    coordinator: str
    """host:port of the coordinator; the party connects out, nothing connects in."""
    state_dir: Path = Path("state")
    """The party's own SQLite (ledger, inbox, phases), checkpoints and models."""
    auto_approve: bool = False
    """Run every job that names this party without asking."""
    insecure: bool = False
    """Plain TCP, for development against a coordinator on a loopback address only."""
    tls: TlsFiles | None = None
    """[tls]: the federation's CA certificate and this party's own certificate and key
    (`vfl certs request --party NAME`, signed by the CA operator); required unless
    insecure. Relative paths resolve against party.toml's folder."""
    seal: bool = True
    """Seal envelope bodies end to end with keys bound to this party's certificate. Off
    only to measure its cost: a party that seals refuses unsealed bodies from its peers.
    Needs [tls]; with insecure = true there is no certificate and nothing is sealed."""
    report: tuple[ReportKind, ...] = REPORT_KINDS
    """The program events this party reports to the coordinator (its one channel for
    results meant for the operator): progress, align (row and intersection counts),
    epoch (losses), step (batch losses), metrics (AUC, accuracy...), privacy (the label
    holder's label-DP parameters and ε spent). Others stay here."""
    heartbeat_s: float = Field(default=5.0, gt=0)
    """Seconds between the heartbeats that keep this party's stream to the coordinator
    alive (default 5); keep it well below the coordinator's limits.session_silence_s."""
    reconnect_max_s: float = Field(default=10.0, gt=0)
    """Longest pause between reconnection attempts (backoff doubles up to this)."""
    inbox_budget_mb: int = Field(default=1024, ge=1, le=1 << 20)
    """Most MiB of messages a job's peers may leave here that no program has asked for
    yet; past it the job is aborted here, naming the sender (vfl/runtime/inbox.py). The
    default covers a PSI of 10^7 IDs (~480 MB one way) taken at half the sender's pace."""
    resume_window_s: float = Field(default=86_400.0, ge=0, le=30 * 86_400)
    """Seconds a failed job's inbox journal is kept so `vfl job resume` can continue it
    (default 86400, one day, as the coordinator's [retention] resume_window_s); then it is
    purged. Succeeded and cancelled jobs are purged when they end."""
    datasets: list[DatasetConfig] = Field(default_factory=list)
    """[[datasets]]: the tables this party offers; a job spec's `data` names one of them
    (`vfl job parties` lists them), never a path on this party's disk."""
    outputs: dict[str, OutputConfig] = Field(default_factory=dict)
    """Named places prediction jobs may write scores to ([outputs.NAME]); a job's spec
    names one (`[predict] output = "NAME"`), and nothing else outside state_dir/outputs."""
    policy: PartyPolicy = Field(default_factory=PartyPolicy)
    """What this party accepts ([policy]); a job outside it is refused at approval."""
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    """[metrics]: the Prometheus endpoint (off by default; docs/operations.md)."""

    @model_validator(mode="after")
    def _check(self) -> PartyConfig:
        if self.insecure and not is_loopback(self.coordinator):
            raise ValueError(
                f"insecure = true is allowed only for a loopback coordinator, not "
                f"{self.coordinator!r}; set [tls]"
            )
        if not self.insecure and self.tls is None:
            raise ValueError("[tls] is required (ca, cert, key); run `vfl certs init`")
        names = [d.name for d in self.datasets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"datasets: name {dupes[0]!r} is used twice")
        bad = [n for n in self.outputs if not re.match(OUTPUT_NAME, n)]
        if bad:
            raise ValueError(
                f"outputs: name {bad[0]!r} is not letters, digits, _ and - (starting with a "
                "letter, no dot); rename [outputs.NAME]"
            )
        return self

    def dataset(self, name: str) -> DatasetConfig | None:
        return next((d for d in self.datasets if d.name == name), None)


def resolve_source(source: str, base: Path) -> str:
    """`source` with a relative file path, or a relative SQLite file in a URL
    (`sqlite:///x.db`), made absolute against `base`: CSV, Parquet and SQLite all resolve
    against the config's folder, not the directory the node was started from."""
    if "://" not in source:
        return source if Path(source).is_absolute() else str(base / source)
    scheme, sep, rest = source.partition(":///")
    database, query, params = rest.partition("?")
    if not sep or not scheme.startswith("sqlite") or database in ("", ":memory:"):
        return source  # another database, or in memory
    if Path(database).is_absolute():
        return source
    return f"{scheme}:///{base / database}{query}{params}"


def load_party_config(path: Path) -> PartyConfig:
    config = parse_model(PartyConfig, read_toml(path), source=str(path))
    base = path.resolve().parent
    datasets = [
        d.model_copy(update={"source": resolve_source(d.source, base)}) for d in config.datasets
    ]
    outputs = {  # a relative path or SQLite file resolves as a dataset's does
        name: o.model_copy(
            update={"path": resolve_source(o.path, base)}
            if o.path is not None
            else {"url": resolve_source(o.url or "", base)}
        )
        for name, o in config.outputs.items()
    }
    updates: dict[str, object] = {
        "datasets": datasets,
        "outputs": outputs,
        "state_dir": base / config.state_dir,
    }
    if config.tls is not None:
        updates["tls"] = config.tls.resolved(base)
    return config.model_copy(update=updates)
