"""`align.protocol = "join"`: a plain ID join, for tests and trusted set-ups only."""
