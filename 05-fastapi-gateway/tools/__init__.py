"""Helpers for the command-line scripts: the one-line-error parser and bench.py's harness."""
