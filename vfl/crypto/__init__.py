"""Paillier for split learning: keys, fixed point, packing, vectorised operations, wire.

See docs/paillier.md for the design: one shared fixed-point exponent, signed slot packing,
DJN fixed-base obfuscators, CRT decryption, process-parallel kernels.
"""
