"""The party node: data sources, program dispatch, local state; later the daemon."""
