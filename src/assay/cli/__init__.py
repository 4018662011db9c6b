"""The `assay` command line (the composition root)."""
