"""One instrumented OpenAI chat call exported over OTLP/HTTP: run as a script by the tests (its own process, since
each instrumentation patches the `openai` package and reads its semantic-conventions mode once per process).

    python sdk_client.py <openai-v2|openllmetry> <assay url> <project token> <openai base url> <distinct id>

The mode environment variables (OTEL_SEMCONV_STABILITY_OPT_IN, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)
are the caller's. Prints the trace id (hex) of the call.
"""

from __future__ import annotations

import sys

import openai
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main() -> None:
    kind, url, token, base_url, distinct_id = sys.argv[1:6]
    headers = {"Authorization": f"Bearer {token}"}
    resource = Resource.create({"service.name": f"otlp-{kind}"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(f"{url}/v1/traces", headers=headers, compression=Compression.Gzip))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(f"{url}/v1/logs", headers=headers))
    )
    if kind == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as OpenLLMetryInstrumentor

        OpenLLMetryInstrumentor().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    tracer = tracer_provider.get_tracer("otlp-test-app")
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
    with tracer.start_as_current_span("gen_ai.agent", attributes={"user.id": distinct_id}) as root:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
            temperature=0.2,
        )
        trace_id = format(root.get_span_context().trace_id, "032x")
    tracer_provider.shutdown()
    logger_provider.shutdown()
    print(trace_id)


if __name__ == "__main__":
    main()
