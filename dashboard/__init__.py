"""The operators' Streamlit dashboards: the coordinator admin view and each party's view.

`queries/` holds plain read-only functions (tested on their own); `admin/` and `party/`
hold the pages, which only render what the queries return and act through the admin API
(coordinator) or the party's approval path. `vfl dashboard coordinator|party` starts them.
"""
