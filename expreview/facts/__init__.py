"""Questions about the bundle that several rule families ask, one module per question."""
