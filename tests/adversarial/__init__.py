"""Probes of issue 17 on real processes: a coordinator, two honest party nodes and mallory,
a third party whose certificate the federation's CA issued as an operator issues any."""
