"""Adapters for the agent under test ("instance"): an OpenAI-compatible chat endpoint or any HTTP endpoint.

spec = parse_spec({"kind": "http", "url": "http://agent/chat", "response": {"text": "$.output"}})
reply = await call_instance(spec, "hello", {"expected_behavior": "...", "tags": [], "metadata": {}})
"""

from assay.targets.call import (
    HttpClientRegistry,
    InstanceError,
    InstanceReply,
    call_instance,
    close_http_clients,
    get_http_clients,
)
from assay.targets.spec import HeaderValue, HttpSpec, InstanceSpec, OpenAIChatSpec, ResponseMapping, parse_spec

__all__ = [
    "HeaderValue",
    "HttpClientRegistry",
    "HttpSpec",
    "InstanceError",
    "InstanceReply",
    "InstanceSpec",
    "OpenAIChatSpec",
    "ResponseMapping",
    "call_instance",
    "close_http_clients",
    "get_http_clients",
    "parse_spec",
]
