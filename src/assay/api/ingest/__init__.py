"""Event capture endpoints compatible with the PostHog SDKs."""
