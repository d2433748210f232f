"""A party's long-term X25519 key: made once on the party's machine, kept 0600, never sent.

Only its public half leaves, inside a `KeyStatement` signed with the party's certificate
key; per-job sealing keys are derived from it (`pair_key.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from vfl.crypto.sealing.key_statement import KeyStatement, sign_statement
from vfl.errors import ConfigError


class IdentityKey:
    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private
        self.public_bytes = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def generate(cls) -> IdentityKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> IdentityKey:
        """The key in `path`, or a new one written there with mode 0600."""
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except ValueError:
                raise ConfigError(f"{path}: not a PEM private key; move it away") from None
            if not isinstance(key, X25519PrivateKey):
                raise ConfigError(f"{path}: not an X25519 key; move it away")
            return cls(key)
        made = cls.generate()
        data = made._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return made

    def exchange(self, peer: X25519PublicKey) -> bytes:
        return self._private.exchange(peer)

    def statement(self, party: str, certificate_pem: bytes, signing_key_pem: bytes) -> KeyStatement:
        return sign_statement(party, self.public_bytes, certificate_pem, signing_key_pem)
