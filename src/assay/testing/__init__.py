"""Test and benchmark helpers shipped with the package (fake LLM server)."""
