"""Privacy of the labels and features the parties keep: label-DP and its accounting
(label_dp.py, accountant.py), and the audit that measures what each party can infer from
what it received (audit.py, attacks/, received/). docs/privacy.md explains both.

Nothing is re-exported: importing one submodule (say the accountant) does not load the
others (torch, the split programs).
"""
