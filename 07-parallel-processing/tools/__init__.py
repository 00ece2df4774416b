"""The lesson's rig: corpus generator, progress bar, command line, bench helpers and plot.

main.py, bench.py and the tests use these; the concept package `parallel` never does.
"""
