"""Secure aggregation's building blocks: Shamir sharing, mask expansion, fixed-point ring,
the narrow ring of int8 levels."""
