"""Load-test harness for bench.py: starts the three targets and drives them with wrk."""
