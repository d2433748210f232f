"""Metrics and structured logs of the coordinator and the party nodes (docs/operations.md).

Every label value comes from a closed enum in `labels.py`, never from a peer or the data:
a hostile peer cannot create series, and no ID, row, key or job id reaches a scrape.
"""
