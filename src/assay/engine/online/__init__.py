"""Online evaluation of ingested events: the scheduler, one event's evaluation, the failure log."""
