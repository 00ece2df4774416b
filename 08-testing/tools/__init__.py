"""The command-line rig of main.py and bench.py: argument parsing, the mutation run."""
