"""Sandbox tests: each sandbox runs on a loopback port and is driven with ``requests``."""
