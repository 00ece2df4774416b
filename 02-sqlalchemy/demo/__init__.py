"""The guided tour `python main.py` runs, and its sample data: a demo of the shop package,
not part of it (nothing in shop/ imports from here)."""
