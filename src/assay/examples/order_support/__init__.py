"""An order-support agent (deterministic rules, no LLM) and its suite (`suite.yaml`)."""
