"""The guided tour `python main.py` runs: a demo of the evolve package, not part of it
(nothing in evolve/ imports from here)."""
