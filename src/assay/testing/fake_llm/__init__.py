"""A fake OpenAI-compatible (and Anthropic) LLM server for tests and benchmarks.

Run it with `python -m assay.testing.fake_llm --port 8089`, or from code with `FakeLLMServer(scenario=...)`.
"""

from assay.testing.fake_llm.app import FakeLLMApp
from assay.testing.fake_llm.scenario import Faults, Rule, Scenario
from assay.testing.fake_llm.server import FakeLLMServer, ThreadedFakeLLMServer, free_port
from assay.testing.fake_llm.synth import synthesize

__all__ = [
    "FakeLLMApp",
    "FakeLLMServer",
    "Faults",
    "Rule",
    "Scenario",
    "ThreadedFakeLLMServer",
    "free_port",
    "synthesize",
]
