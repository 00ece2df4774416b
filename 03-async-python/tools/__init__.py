"""The lesson's rig: the local slow server, the command-line parser and the text timeline.

main.py, bench.py and the tests use these; the concept package `asyncio_patterns` never does.
"""
