"""Parsed files and the shared index of each Python file."""
