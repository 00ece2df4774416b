"""Processes, threads and pools: the same jobs run serially and in parallel.

Modules, in the order the README walks through them:

- ``runtime``   - core count, GIL detection, start methods (fork / spawn / forkserver)
- ``corpus``    - a deterministic text corpus written as shard files
- ``wordcount`` - the map-reduce job: tokenise, count, merge
- ``kernel``    - a pure-CPU kernel (prime counting)
- ``executors`` - one ``run_map`` for serial / threads / processes, cancellation, first match
- ``pools``     - ``multiprocessing.Pool``: ``map`` and ``imap_unordered`` with a ``chunksize``
- ``pipeline``  - producer -> workers -> collector with bounded queues and poison pills
- ``ipc``       - what one message through a Pipe or a Queue costs
- ``counter``   - a racy shared counter, its ``Lock`` fix and the ``Manager`` alternative
- ``shm``       - a NumPy array shared through ``multiprocessing.shared_memory``
- ``iojobs``    - an I/O-bound job: serial vs threads vs processes vs asyncio
- ``amdahl``    - fitting Amdahl's law to measured speedups
"""
