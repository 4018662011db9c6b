"""Bundled examples for `assay demo`: agents written as plain Python and suite files that test them."""
