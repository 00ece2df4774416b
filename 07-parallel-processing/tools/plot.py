"""The picture bench.py writes to docs/: speedup against workers, and the I/O-bound bars."""

from __future__ import annotations

from pathlib import Path

from tools import amdahl
from tools.machine import machine_header


def speedup_plot(
    times: dict[str, dict[int, float]], io: dict[str, float], cores: int, out: Path
) -> Path:
    """Left: CPU-bound speedup per worker count next to the ideal and the Amdahl fit.
    Right: I/O-bound speedup per strategy (log scale: the bars differ by 20x)."""
    import matplotlib  # imported here: only a full bench run draws, and the import is slow

    matplotlib.use("Agg")  # render to a file; no display needed
    import matplotlib.pyplot as plt

    serial = times["serial"][1]
    ns = sorted(times["processes"])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, style in (("processes", "o-"), ("threads", "s-")):
        ax.plot(ns, [serial / times[name][n] for n in ns], style, label=name)
    ax.plot(ns, [min(n, cores) for n in ns], "k--", label=f"ideal ({cores} cores)")
    p = amdahl.fit({n: serial / times["processes"][n] for n in ns if n <= cores})
    ax.plot(ns, [amdahl.predicted(p, min(n, cores)) for n in ns], ":", label=f"Amdahl p={p:.2f}")
    ax.set(xlabel="workers", ylabel="speedup vs serial", title="CPU-bound kernel", xticks=ns)
    ax.legend()
    bx.bar(list(io), [io["serial"] / t for t in io.values()], color="tab:green")
    bx.set(ylabel="speedup vs serial", title="I/O-bound calls", yscale="log")
    fig.suptitle(machine_header(), fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
