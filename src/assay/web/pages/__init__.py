"""The web UI's routers, one module per page or group of pages."""
