"""`protection = "paillier"`: the encrypted interactive layer (messages.py has the protocol)."""
