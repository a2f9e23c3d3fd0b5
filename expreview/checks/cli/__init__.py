"""CLI: main's command line, and the flags it passes to the scripts it launches."""
