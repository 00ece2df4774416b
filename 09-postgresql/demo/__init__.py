"""What `python main.py tour` and `explain` print; the demos themselves live in shopdb/."""
