"""Fixtures of the SOC specialist tests; the world itself lives in soc_specialist_world (importable by name)."""

from soc_specialist_world import soc_world

__all__ = ["soc_world"]
