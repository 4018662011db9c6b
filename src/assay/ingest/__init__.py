"""Event ingestion: decoding PostHog SDK capture payloads and $ai_* events."""
