"""The coordinator: job store, relay and scheduling (arrives with the deployment issue)."""
