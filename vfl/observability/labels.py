"""The closed sets metric labels take their values from.

A label value is never copied from a message, a job spec or a peer: anything outside these
sets becomes `other`, so the number of series is fixed by this file, whatever peers send.
Party names are not labels either (each process's own identity is Prometheus's `instance`;
the coordinator's peers would make the series grow with the federation and show who talks
to whom); job ids never are.
"""

from __future__ import annotations

from enum import StrEnum

from vfl.config.phase_plan import JobState, Phase

OTHER = "other"


class Family(StrEnum):
    """The algorithm a message kind belongs to: the part before the dot of its wire kind
    (`split.Activations` → `split`). Kinds themselves are not labels: a peer names them."""

    ECDH = "ecdh"
    RSA = "rsa"
    RR22 = "rr22"
    PSI = "psi"
    JOIN = "join"
    SPLIT = "split"
    SPLIT_PAILLIER = "split_paillier"
    TRANSFER = "transfer"
    TRANSFER_PAILLIER = "transfer_paillier"
    HORIZONTAL = "horizontal"
    OTHER = OTHER


class Direction(StrEnum):
    """Which way a message went, seen from the process that counts it."""

    SENT = "sent"
    RECEIVED = "received"


class RelayOutcome(StrEnum):
    """What the relay did with one envelope a party handed it."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    FULL = "full"
    REJECTED = "rejected"
    ENDED = "ended"


class PhaseOutcome(StrEnum):
    """How one run of a phase on a party node ended."""

    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"


class ErrorKind(StrEnum):
    """What went wrong, counted by `*_errors_total{kind}`."""

    ENVELOPE_INVALID = "envelope_invalid"
    """A relayed transfer that is not an envelope."""
    RELAY_REFUSED = "relay_refused"
    """An envelope refused: wrong sender, job or addressee, or a pending job."""
    TRANSFER_DROPPED = "transfer_dropped"
    """A chunked transfer that broke a bound or went idle."""
    ITEM_REFUSED = "item_refused"
    """A report, phase result or approval refused (reports outside policy included)."""
    STREAM_FAILED = "stream_failed"
    """A party stream's reader or delivery loop stopped on an unexpected error."""
    PHASE_FAILED = "phase_failed"
    """A phase failed (on the party that ran it; on the coordinator, any party's)."""
    LOCAL_STATE = "local_state"
    """This process could not write its own state (full disk, read-only file)."""
    REPORT_FAILED = "report_failed"
    """A party node could not tell the coordinator a phase's outcome."""
    SWEEP_FAILED = "sweep_failed"
    """A periodic sweep of ended jobs failed (tried again next time)."""


def family_of(kind: str) -> Family:
    """The family of a wire kind; `other` for anything unknown (a peer chose it)."""
    prefix = kind.partition(".")[0]
    try:
        return Family(prefix)
    except ValueError:
        return Family.OTHER


def state_label(state: str) -> str:
    """A job state as a label: a known `JobState`, else `other`."""
    try:
        return JobState(state).value
    except ValueError:
        return OTHER


def phase_label(phase: str) -> str:
    """A phase as a label: a known `Phase`, else `other`."""
    try:
        return Phase(phase).value
    except ValueError:
        return OTHER
