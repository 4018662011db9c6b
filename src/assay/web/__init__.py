"""The web UI: server-rendered pages over the application services, served by `assay serve` at `/`."""
