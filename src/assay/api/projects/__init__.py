"""`/api/projects/{project_id}/…`: the paths PostHog's evaluations SDK (`posthog.ai.evaluations`) calls."""
