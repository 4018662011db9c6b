"""Dispatch through Procrastinate on PostgreSQL: runs as chunk jobs, online evaluation as jobs, worker processes."""
