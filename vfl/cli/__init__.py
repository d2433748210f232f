"""The `vfl` command: a thin layer over the Python API."""
