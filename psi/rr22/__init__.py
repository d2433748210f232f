"""`align.protocol = "rr22"`: SecretFlow's RR22 PSI (the `spu` wheel) in a child process,
its traffic carried as sealed frames through the party's own channel (psi/rr22/shim.py)."""
