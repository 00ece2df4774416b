"""Test doubles and database helpers shared by the tests and bench.py."""
