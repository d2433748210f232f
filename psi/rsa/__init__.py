"""`align.protocol = "rsa"`: RSA blind-signature PSI for very unbalanced sets."""
