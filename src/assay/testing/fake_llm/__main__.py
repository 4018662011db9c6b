"""`python -m assay.testing.fake_llm`: serve the fake LLM API."""

from __future__ import annotations

import argparse
import json
from typing import Any

from assay.testing.fake_llm.app import FakeLLMApp
from assay.testing.fake_llm.scenario import Scenario


def build_scenario(args: argparse.Namespace) -> Scenario:
    """The scenario file (if any) with command-line overrides applied."""
    data: dict[str, Any] = {}
    if args.scenario:
        with open(args.scenario, encoding="utf-8") as handle:
            data = json.load(handle)
    faults = dict(data.get("faults") or {})
    for flag, key in (
        ("rate_429", "rate_429"),
        ("retry_after", "retry_after_s"),
        ("rate_500", "rate_500"),
        ("rate_timeout", "rate_timeout"),
        ("timeout_s", "timeout_s"),
        ("rate_malformed", "rate_malformed"),
        ("malformed_mode", "malformed_mode"),
    ):
        if getattr(args, flag) is not None:
            faults[key] = getattr(args, flag)
    data["faults"] = faults
    for flag, key in (
        ("latency_ms", "latency_ms"),
        ("jitter_ms", "jitter_ms"),
        ("seed", "seed"),
        ("api_key", "api_key"),
    ):
        if getattr(args, flag) is not None:
            data[key] = getattr(args, flag)
    if args.default_reply is not None:
        data["default_reply"] = args.default_reply
    if args.no_json_schema:
        data["json_schema_supported"] = False
    if args.flavor is not None:
        data["flavor"] = args.flavor
    if args.ramble:
        data["ramble"] = True
    if args.ms_per_token is not None:
        data["ms_per_token"] = args.ms_per_token
    return Scenario.model_validate(data)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run uvicorn (uvloop + httptools when installed)."""
    parser = argparse.ArgumentParser(prog="python -m assay.testing.fake_llm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--scenario", help="JSON file with a Scenario")
    parser.add_argument("--latency-ms", type=float)
    parser.add_argument("--jitter-ms", type=float)
    parser.add_argument("--rate-429", type=float)
    parser.add_argument("--retry-after", type=float, help="Retry-After seconds on injected 429s")
    parser.add_argument("--rate-500", type=float)
    parser.add_argument("--rate-timeout", type=float)
    parser.add_argument("--timeout-s", type=float, help="how long an injected timeout holds the request")
    parser.add_argument("--rate-malformed", type=float)
    parser.add_argument("--malformed-mode", choices=["auto", "invalid_json", "schema_violation", "truncated"])
    parser.add_argument("--seed", type=int)
    parser.add_argument("--api-key")
    parser.add_argument("--default-reply")
    parser.add_argument("--no-json-schema", action="store_true", help="reject response_format json_schema with 400")
    parser.add_argument(
        "--flavor",
        choices=["openai", "llama_cpp", "llama_server", "ollama", "vllm", "lmstudio"],
        help="imitate that server's response_format handling",
    )
    parser.add_argument("--ramble", action="store_true", help="unconstrained answers ramble until max_tokens")
    parser.add_argument("--ms-per-token", type=float, help="generation time per completion token")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    import uvicorn

    app = FakeLLMApp(build_scenario(args))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="auto",
        http="auto",
        lifespan="off",
        access_log=False,
        log_level=args.log_level,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
