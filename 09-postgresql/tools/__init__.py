"""The command-line rig shared by main.py and bench.py."""
