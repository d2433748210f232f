"""Federated algorithms, one package each, every protocol in its messages.py."""
