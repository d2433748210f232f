"""Attacks that a party can mount on what it received, used by `vfl audit` and the tests."""
