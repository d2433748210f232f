"""`align.protocol = "ecdh"`: Diffie-Hellman PSI on X25519 (the default)."""
