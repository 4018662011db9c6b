"""Application services: one function per use case, called by the HTTP API, the CLI and any other front end."""
