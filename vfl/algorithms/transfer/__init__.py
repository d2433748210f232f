"""Federated transfer learning (Liu et al. 2020): a labelled source and an unlabelled target."""
