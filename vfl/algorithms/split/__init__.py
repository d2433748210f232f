"""Vertical split learning: bottom models at every party, top model at the label holder."""
