"""DRV: a derived experiment keeps what its base had (needs the base bundle): no base definition
missing (missing, with base_uses and rewritten), no file truncated (truncated) or left unchanged
(unchanged), no plot annotations dropped (annotations)."""
