"""Horizontal federated learning: parties hold the same columns about different people."""
