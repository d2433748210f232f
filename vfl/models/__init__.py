"""Model building blocks shared by the algorithms."""
