"""A key pair as bytes for its owner's own disk, so a restarted party gets its key back.

Deployment resume needs it: a feature holder killed mid-phase and restarted is handed the
replies its peer already sent, encrypted under the key it had. The bytes are written only
through `Workspace.private` (0600, on the owner's machine); they are never sent, logged or
put in a checkpoint or model file. The format is small JSON with hex integers, so loading
it never runs a deserialiser that could execute anything.
"""

from __future__ import annotations

import json

import gmpy2
from gmpy2 import mpz

from vfl.crypto.keys import KeyPair, PrivateKey, PublicKey
from vfl.crypto.ou import OuKeyPair, OuPrivateKey, OuPublicKey
from vfl.errors import CryptoError

_FORMAT = "vfl-paillier-keypair-v1"
_OU_FORMAT = "vfl-ou-keypair-v1"
_FIX = "the file is damaged; this phase cannot resume, restart the job"


def keypair_to_bytes(keys: KeyPair) -> bytes:
    p, q, hs = keys.private.p, keys.private.q, keys.public.hs
    return json.dumps(
        {"format": _FORMAT, "p": f"{int(p):x}", "q": f"{int(q):x}", "hs": f"{int(hs):x}"}
    ).encode()


def keypair_from_bytes(data: bytes, where: str) -> KeyPair:
    """Parse and check a stored key pair; `where` names the file for the error message."""
    fix = "the file is damaged; this phase cannot resume, restart the job"
    try:
        doc = json.loads(data)
        if doc.get("format") != _FORMAT:
            raise ValueError("unknown format")
        p, q, hs = (mpz(int(doc[k], 16)) for k in ("p", "q", "hs"))
    except (ValueError, KeyError, TypeError) as exc:
        raise CryptoError(f"{where}: not a stored Paillier key pair ({exc}); {fix}") from None
    n = p * q
    if not (gmpy2.is_prime(p) and gmpy2.is_prime(q)) or p == q:
        raise CryptoError(f"{where}: the stored primes are not two distinct primes; {fix}")
    if not 1 < hs < n * n or gmpy2.gcd(hs, n) != 1:
        raise CryptoError(f"{where}: the stored obfuscator base is out of range; {fix}")
    return KeyPair(PublicKey(n, hs), PrivateKey(p, q))


def ou_keypair_to_bytes(keys: OuKeyPair) -> bytes:
    pub, priv = keys.public, keys.private
    fields = {"p": priv.p, "q": priv.q, "t": priv.t, "g": pub.g, "h": pub.h}
    doc: dict[str, object] = {k: f"{int(v):x}" for k, v in fields.items()}
    doc.update(format=_OU_FORMAT, key_bits=pub.key_bits)
    return json.dumps(doc).encode()


def ou_keypair_from_bytes(data: bytes, where: str) -> OuKeyPair:
    """Parse and check a stored OU key pair; the decryption constant is recomputed."""
    try:
        doc = json.loads(data)
        if doc.get("format") != _OU_FORMAT:
            raise ValueError("unknown format")
        p, q, t, g, h = (mpz(int(doc[k], 16)) for k in ("p", "q", "t", "g", "h"))
        key_bits = int(doc["key_bits"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CryptoError(f"{where}: not a stored OU key pair ({exc}); {_FIX}") from None
    if not all(gmpy2.is_prime(x) for x in (p, q, t)) or (p - 1) % t != 0:
        raise CryptoError(f"{where}: the stored OU primes have the wrong form; {_FIX}")
    n, p2 = p * p * q, p * p
    public = OuPublicKey(n, g, h, key_bits)
    public.check(where)
    lg = (gmpy2.powmod(g % p2, t, p2) - 1) // p
    if lg % p == 0:
        raise CryptoError(f"{where}: the stored OU base G does not decrypt; {_FIX}")
    return OuKeyPair(public, OuPrivateKey(p, q, t, gmpy2.invert(lg, p)))
