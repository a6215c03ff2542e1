"""Fixtures of the A2A edge tests; the doubles themselves live in a2a_edge_doubles (importable by name)."""

from a2a_edge_doubles import fraud_agent, start_server

__all__ = ["fraud_agent", "start_server"]
