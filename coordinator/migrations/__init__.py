"""Alembic migrations of the coordinator's store, applied at start by `Store.open`."""
