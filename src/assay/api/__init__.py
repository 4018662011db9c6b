"""HTTP surfaces: routers translate between the wire and the domain."""
