"""The coordinator's tables (SQLAlchemy 2 ORM). Alembic migrations create them; see
`coordinator/migrations`. Datasets hold schema and counts only; envelope bodies are
kept only while in flight and deleted once the addressed party confirms it stored them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PartyRow(Base):
    __tablename__ = "parties"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    sealing_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The party's signed X25519 key statement (a serialised SealingKey), opaque here."""


class DatasetRow(Base):
    __tablename__ = "datasets"
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    columns_json: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[float] = mapped_column(Float)


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    spec_json: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class JobPartyRow(Base):
    __tablename__ = "job_parties"
    job_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    party: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    model_path: Mapped[str | None] = mapped_column(Text, nullable=True)


class PhaseRow(Base):
    """One phase of a job: when it started and finished (all parties done)."""

    __tablename__ = "phases"
    job_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    phase: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class PhaseRunRow(Base):
    """One party's run of one phase."""

    __tablename__ = "phase_runs"
    job_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    phase: Mapped[str] = mapped_column(String(32), primary_key=True)
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[float] = mapped_column(Float)
    bytes_sent: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The party's byte totals for the whole job when it finished this phase (its ledger):
    a phase's own bytes are the difference from the phase before."""
    bytes_received: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class EventRow(Base):
    """A program event (progress, epoch, metrics) as JSON; `key` makes a re-report replace."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("job_id", "key", name="uq_events_job_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(96), index=True)
    party: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class LogRow(Base):
    __tablename__ = "logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(96), index=True)
    party: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)


class EnvelopeRow(Base):
    """An envelope in flight: stored until the addressed party confirms it has it."""

    __tablename__ = "envelopes"
    __table_args__ = (
        UniqueConstraint("job_id", "src", "dst", "seq", name="uq_envelopes_route_seq"),
        # ids must never be reused: the relay delivers "everything after the last id sent"
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(96))
    src: Mapped[str] = mapped_column(String(64), index=True)
    dst: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(128))
    seq: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)
