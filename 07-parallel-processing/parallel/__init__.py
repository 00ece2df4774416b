"""Processes, threads and pools: the same jobs run serially and in parallel.

Modules, in the order the README walks through them:

- ``runtime``   - core count, GIL detection, start methods (fork / spawn / forkserver), Ctrl-C
- ``kernel``    - a pure-CPU kernel (prime counting)
- ``iojobs``    - an I/O-bound job: serial vs threads vs processes vs asyncio
- ``wordcount`` - the map-reduce job: tokenise, count, merge
- ``executors`` - map over a pool (serial / threads / processes), warm start, first match
- ``pools``     - ``multiprocessing.Pool``: ``map`` and ``imap_unordered`` with a ``chunksize``
- ``pipeline``  - producer -> workers -> collector with bounded queues and poison pills
- ``ipc``       - what one message through a Pipe or a Queue costs
- ``counter``   - a racy shared counter, its ``Lock`` fix and the ``Manager`` alternative
- ``shm``       - a NumPy array shared through ``multiprocessing.shared_memory``

The corpus generator, progress bar, bench helpers and plot live in ``tools/``, outside it.
"""
