"""The certificate a party node connects with, re-read so a renewal needs no restart.

`vfl certs install` replaces the party's key and certificate files; the link asks this
object before every connection and, between connections, whether the files changed. When
they did (and the new pair matches), the link closes its stream and reconnects with the new
certificate; the Hello carries a sealing statement signed with the new certificate key for
the same long-term X25519 key, and each running job's per-job key is published again, the
same key signed with the new certificate (`on_renewal`), so pairwise keys stay the same, a
running job carries on, and the old certificate can be revoked under it. A half-installed
pair (key replaced, certificate not yet) is not used: the previous pair stays until both
files agree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from parties.sealing_keys import KEY_FILE, to_proto
from vfl.config.party_config import PartyConfig
from vfl.crypto.sealing import IdentityKey
from vfl.errors import ConfigError
from vfl.protocol.v1 import coordinator_pb2 as pb

log = logging.getLogger(__name__)
Credentials = tuple[grpc.ChannelCredentials, pb.SealingKey | None]


class LinkIdentity:
    """This party's TLS credentials and Hello sealing statement, from the files as they are."""

    def __init__(
        self, config: PartyConfig, on_renewal: Callable[[bytes, bytes], None] | None = None
    ) -> None:
        assert config.tls is not None, "validated: tls is required unless insecure"
        self._config, self._tls = config, config.tls
        self._on_renewal = on_renewal
        """Told each newly adopted (certificate, key) pair: the per-job sealer signs with it."""
        self._lock = threading.Lock()
        self._pair: tuple[bytes, bytes] | None = None
        self._current: Credentials | None = None
        self.serial = 0
        """The serial of the certificate in use."""
        self()  # a mismatched pair is a configuration error at start, not at first connect

    def __call__(self) -> Credentials:
        """The credentials to connect with now (the newest matching pair on disk)."""
        with self._lock:
            pair = self._read()
            if self._current is not None and (pair is None or pair == self._pair):
                return self._current
            if pair is None:
                raise ConfigError(
                    f"tls.cert and tls.key of {self._config.name} do not match; install the "
                    "certificate with `vfl certs install`"
                )
            ca = self._tls.read()[0]
            cert, key = pair
            creds = grpc.ssl_channel_credentials(
                root_certificates=ca, private_key=key, certificate_chain=cert
            )
            statement = None
            if self._config.seal:
                identity = IdentityKey.load_or_create(self._config.state_dir / KEY_FILE)
                statement = to_proto(identity.statement(self._config.name, cert, key))
            serial = x509.load_pem_x509_certificate(cert).serial_number
            if self._current is not None:
                log.info("certificate renewed: now connecting with serial %x", serial)
                if self._on_renewal is not None:
                    self._on_renewal(cert, key)
            self._pair, self._current, self.serial = pair, (creds, statement), serial
            return self._current

    def changed(self) -> bool:
        """True when a new, matching pair was installed since the last connection."""
        with self._lock:
            pair = self._read()
            return pair is not None and self._pair is not None and pair != self._pair

    def _read(self) -> tuple[bytes, bytes] | None:
        """(cert, key) if the two files hold a matching pair now; None if they do not."""
        try:
            cert, key = self._tls.cert.read_bytes(), self._tls.key.read_bytes()
            public = x509.load_pem_x509_certificate(cert).public_key()
            private = serialization.load_pem_private_key(key, None)
        except (OSError, ValueError):
            return None
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if private.public_key().public_bytes(der, spki) != public.public_bytes(der, spki):
            return None
        return cert, key
