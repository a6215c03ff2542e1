"""Fixtures of the SOC investigation tests; the doubles live in soc_investigation_doubles (importable by name)."""

from soc_investigation_doubles import serve

__all__ = ["serve"]
