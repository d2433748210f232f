"""Align parties on their shared entities: private set intersection and its programs."""
