"""What main.py and bench.py share: the one-line-error argument parser."""
