"""The run engine: executes runs and online evaluations in the background."""
