"""Assay: evaluate LLM applications and agents."""

__version__ = "0.1.0"
