"""Command-line plumbing shared by main.py and bench.py."""
