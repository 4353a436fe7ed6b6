"""Stand-in package (aiter_swa benchmark)."""
