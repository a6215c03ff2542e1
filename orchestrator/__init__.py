"""Kafka ingest, the LangGraph supervisor, the embedded infrastructure launcher and the CLI."""
