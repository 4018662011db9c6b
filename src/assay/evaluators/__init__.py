"""Evaluators: LLM judge, Hog code and built-in deterministic checks."""
