"""Narrated runs of the lesson: `python main.py demo`, `publish` and `consume`."""
