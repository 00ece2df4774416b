"""Command-line helpers shared by main.py and bench.py (not part of the concept package)."""
