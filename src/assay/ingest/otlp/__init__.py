"""OpenTelemetry (OTLP/HTTP) ingestion: decoding export requests and mapping GenAI spans and logs to `$ai_*` events.

`decode.py` turns a request body into `records.py`'s plain spans and log records; one module per attribute
dialect (`semconv.py`, `openllmetry.py`, `openinference.py`) and `log_events.py` read properties from them;
`spans.py` builds the event of a span.
"""
