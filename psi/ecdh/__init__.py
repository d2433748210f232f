"""`align.protocol = "ecdh"`: Diffie-Hellman PSI on ristretto255 (the default)."""
