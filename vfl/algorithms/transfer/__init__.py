"""Federated transfer learning (Liu et al. 2020): a source with labels and a target with
other features learn a common representation from their shared rows; the target then
scores its own other rows. docs/transfer.md."""
