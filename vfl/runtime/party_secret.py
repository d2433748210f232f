"""A party's own secret for one job, and the deterministic randomness derived from it.

Deployment resume (docs/architecture.md, Resume) needs replay-deterministic programs: a
party restarted from its last checkpoint must re-send exactly the messages it sent the
first time, because its peers drop the re-sent copies and go on with the originals. A
program that puts secret randomness into messages (masks, noise, Paillier obfuscators,
PSI scalars) therefore cannot draw it from the OS; it derives it here instead, from

- a 32-byte secret made once per (job, party) with `secrets` and kept 0600 in the party's
  workspace (`Workspace.private`). It never leaves the machine, is never logged and is
  never derived from the job seed, which every party (and the coordinator) knows;
- a *purpose* (what the value is for: "split_paillier/L/bank/e1") and a *scope* (where
  in the program: the message scope, "train/epoch=3/batch=7").

`derive(purpose, scope)` = HKDF-SHA256(secret, info = length-framed label, job, spec
digest, party, purpose, scope) gives a 256-bit key per (purpose, scope); value i of that
stream is SHAKE-256(key ‖ i). Different purposes, scopes, parties, jobs and specs give
independent streams; the same ones give the same values, which is exactly what a replay
needs. The spec digest is the one sealing binds keys to (`job_digest`): were a job id ever
run again with another spec (other shapes, other data), its masks would not repeat.
Nothing here is specific to split learning: PSI programs can use it the same way.
"""

from __future__ import annotations

import hashlib
import secrets
import struct

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vfl.config.job_spec import JobSpec
from vfl.crypto.sealing.pairwise_sealer import job_digest
from vfl.errors import CryptoError
from vfl.runtime.context import PartyContext
from vfl.runtime.workspace import Workspace

SECRET_BYTES = 32
_LABEL = b"vfl party secret v2"
MASK_MARGIN_BITS = 128
"""Extra bits drawn before reducing mod a bound: the result is within 2^-128 of uniform."""


def _frame(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def secret_file(job_id: str) -> str:
    """The secret's file name in the workspace: one per job, even if a workspace is reused."""
    return f"party-secret-{hashlib.sha256(job_id.encode()).hexdigest()[:16]}.key"


class PartySecret:
    """A party's secret for one job, bound to the job's spec; derives replayable streams."""

    def __init__(self, key: bytes, job_id: str, party: str, spec_digest: bytes) -> None:
        if len(key) != SECRET_BYTES:
            raise CryptoError(
                f"party secret for job {job_id}: {len(key)} bytes, expected {SECRET_BYTES}; "
                "the file in the workspace's private/ folder is damaged: the job cannot resume"
            )
        self._key = key
        self._job = job_id.encode()
        self._spec = spec_digest
        self._party = party.encode()

    def __repr__(self) -> str:
        return "PartySecret(<hidden>)"

    @staticmethod
    def load(workspace: Workspace, job_id: str, party: str, spec_digest: bytes) -> PartySecret:
        """This party's secret for `job_id`: created on first use, the same ever after."""
        key = workspace.private(secret_file(job_id), lambda: secrets.token_bytes(SECRET_BYTES))
        return PartySecret(key, job_id, party, spec_digest)

    @staticmethod
    def of(ctx: PartyContext) -> PartySecret:
        """The secret of the context's party and job, bound to the digest of its job spec
        (the spec's canonical JSON: what the coordinator stores and sends to every party)."""
        if ctx.spec_digest is not None:
            return PartySecret.load(ctx.workspace, ctx.job_id, ctx.party, ctx.spec_digest)
        return PartySecret.for_spec(ctx.workspace, ctx.job_id, ctx.party, ctx.job)

    @staticmethod
    def for_spec(workspace: Workspace, job_id: str, party: str, spec: JobSpec) -> PartySecret:
        """The secret a program of `spec` run as `job_id` in `workspace` uses (tests, audits)."""
        return PartySecret.load(workspace, job_id, party, job_digest(spec.model_dump_json()))

    def derive(self, purpose: str, scope: str) -> DerivedRandomness:
        parts = (self._job, self._spec, self._party, purpose.encode(), scope.encode())
        info = _frame(_LABEL, *parts)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._key)
        return DerivedRandomness(f"{purpose}|{scope}", key)


class DerivedRandomness:
    """The values of one (purpose, scope): uniform integers by index, or a numpy generator.

    `label` names the stream (it is not secret); the key is. Satisfies
    `vfl.crypto.engine.RandomSource`, so a Paillier engine can draw obfuscators from it.
    """

    def __init__(self, label: str, key: bytes) -> None:
        self.label = label
        self._key = key

    def __repr__(self) -> str:
        return f"DerivedRandomness({self.label!r}, <hidden>)"

    def bits(self, index: int, bits: int) -> int:
        """Value `index` of the stream: uniform in [0, 2^bits)."""
        size = (bits + 7) // 8
        raw = hashlib.shake_256(self._key + index.to_bytes(8, "big")).digest(size)
        return int.from_bytes(raw, "big") >> (8 * size - bits)

    def below(self, index: int, bound: int) -> int:
        """Value `index` reduced into [0, bound): statistical distance ≤ 2^-128 from uniform."""
        return self.bits(index, bound.bit_length() + MASK_MARGIN_BITS) % bound

    def generator(self) -> np.random.Generator:
        """A numpy generator seeded with all 256 bits of the stream's key (for Gaussians)."""
        return np.random.default_rng(int.from_bytes(self._key, "big"))
