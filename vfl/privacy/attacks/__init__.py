"""Attacks `vfl audit` mounts on a simulated job, one small class each (base.Attack)."""
