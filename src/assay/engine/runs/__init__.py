"""Agent-evaluation runs: snapshot, dispatch (leases), per-case pipeline, result writer, summaries."""
