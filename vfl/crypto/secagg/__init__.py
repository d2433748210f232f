"""Secure aggregation's building blocks: Shamir sharing, mask expansion, fixed-point ring."""
