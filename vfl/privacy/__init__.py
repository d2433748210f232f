"""Privacy of the labels and features the parties keep: label-DP and its accounting
(label_dp.py, accountant.py), and the audit that measures what each party can infer from
what it received (audit.py, attacks/). docs/privacy.md explains both.

Deliberately no re-exports: vfl.result imports a submodule, and the coordinator, which
must not load torch, imports vfl.result.
"""
