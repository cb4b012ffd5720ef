"""Checks: one module per SPEC family, each check registered under its clause id."""
