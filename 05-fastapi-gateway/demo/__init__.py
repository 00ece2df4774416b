"""The example system as a learner runs it: servers in threads, the stack, the scripted tour.

Not part of the gateway: ``main.py`` and the tests use it; ``gateway/`` never imports it.
"""
