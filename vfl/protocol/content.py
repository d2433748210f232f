"""How the values in a message are protected from the party that receives it.

Every wire message declares one (`serde.message(kind, Content.X)`), so a party's ledger can
say of everything it sent not only to whom and how much, but what the recipient can read.
It is on top of the end-to-end sealing, which hides every body from the coordinator alike.
What each message reveals exactly is written beside it in its protocol's `messages.py`;
this is the one-word summary of that.
"""

from __future__ import annotations

from enum import Enum


class Content(Enum):
    """What a message's recipient can read of its values."""

    PLAIN = "plain"
    """Readable: sizes, counts, settings, or values the protocol reveals to the recipient
    by design (a split model's activations under protection "none", a·W under Paillier)."""
    PUBLIC_KEY = "public-key"
    """A public key or public parameters, nothing about any row."""
    PAILLIER = "paillier"
    """Paillier ciphertexts under the sender's own key: the recipient cannot open them.
    (Ciphertexts under the recipient's key are classed by what it reads on opening them:
    masked, or plain where the protocol gives it the value.)"""
    MASKED = "masked"
    """Values plus random masks the sender drew (statistically hiding, docs/paillier.md and
    docs/horizontal.md give the widths); the recipient learns only what the masks leave."""
    SHARES = "shares"
    """Secret shares: below the threshold they reveal nothing."""
    BLINDED = "blinded"
    """PSI: IDs hashed into a group and raised to a secret exponent (or RSA-blinded),
    pseudo-random to the recipient except where both hold the same ID."""
