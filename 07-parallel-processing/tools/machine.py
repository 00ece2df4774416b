"""Where a measurement came from: the machine, how busy it was, and who used the CPU (Linux /proc).

bench.py and main.py print these; the lesson's package does not need them.
"""

from __future__ import annotations

import os
import platform
import time

from parallel.runtime import cpu_count, gil_enabled

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_ticks() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs since boot, from /proc/stat; None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, all of user..steal


def idle_share(seconds: float = 1.0) -> float | None:
    """Share of the whole machine's CPU that nobody used during the next `seconds` (Linux).

    The load average lags by a minute and counts processes this one may not be able to see
    (other containers on the same machine); idle time is what a parallel run can actually get.
    """
    before = cpu_ticks()
    time.sleep(seconds)
    after = cpu_ticks()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def machine_header() -> str:
    """One line that names the machine a measurement came from."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{os.cpu_count()} cores (usable: {cpu_count()}), "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"GIL {'enabled' if gil_enabled() else 'disabled'}, {platform.system()} "
        f"{platform.machine()}, load average {load}"
    )


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) process `pid` has used so far, from /proc; None off Linux."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime in clock ticks
