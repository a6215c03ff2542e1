"""The risk gateway: riskmesh as an A2A agent for other banking systems (issue #5)."""
