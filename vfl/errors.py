"""One error hierarchy for every trust boundary.

Each message is meant to be read by the person who can fix it: it names the file or
message, the field, what was found and what to do. None of them may carry raw IDs, rows,
tensors, keys or ciphertexts.
"""

from __future__ import annotations


class VflError(Exception):
    """Base of every error the platform raises on purpose."""

    exit_code = 1


class ConfigError(VflError):
    """A job spec, party config or coordinator config is invalid."""

    exit_code = 2


class PolicyError(ConfigError):
    """A job asks for something this party's party.toml [policy] does not accept."""


class DataValidationError(VflError):
    """A party's data source does not fit the job (missing column, duplicates, NaNs...)."""

    exit_code = 2


class ProtocolError(VflError):
    """A peer sent a message that does not fit the protocol (kind, dtype, shape, size)."""


class PeerUnavailableError(VflError):
    """A peer did not answer in time or the job was aborted by another party's failure."""


class JobAbortedError(PeerUnavailableError):
    """Another program of the same job failed; this one stops without touching state."""


class JobEndedError(JobAbortedError):
    """The coordinator says the job is over (cancelled, failed elsewhere, succeeded): the
    program stops; nothing here went wrong."""


class ReplayError(VflError):
    """This party was about to send a different body under a sequence number it already
    used: a resumed program that does not replay what it sent (masks would repeat)."""


class CryptoError(VflError):
    """A cryptographic operation failed (overflow, wrong key, tampering)."""


class LocalFaultError(VflError):
    """This party's own storage failed (disk full, read-only state): its phase fails at
    once, attributed to it, instead of the job timing out at a peer that is blamed."""


class ExportError(VflError):
    """A model folder cannot be exported (vfl.export): missing, corrupt, or of a kind that
    has no standalone graph. The message names the folder, what was found and the fix."""

    exit_code = 2


def failure_reason(exc: BaseException) -> str:
    """What went wrong, for a failed result or phase: the error's message, or its class
    name when the message is blank (`BrokenPipeError()`), so a reason is never empty."""
    return str(exc).strip() or type(exc).__name__
