"""What main.py and bench.py share (the one-line-error parser) and the measurements behind
bench.py. The shop package never imports from here."""
