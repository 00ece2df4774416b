"""A pure-CPU kernel: count the primes in a range by trial division.

Pure Python on purpose: every step holds the GIL, so threads cannot run it in parallel on a
normal CPython build, while processes - each with its own interpreter and GIL - can. The cost
of a number grows with its size, so equal-width ranges are *unequal* tasks: that is what makes
scheduling (``chunksize``, ``imap_unordered``) matter.
"""

from __future__ import annotations


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    f = 3
    while f * f <= n:
        if n % f == 0:
            return False
        f += 2
    return True


def count_primes(bounds: tuple[int, int]) -> int:
    """Primes p with lo <= p < hi. Takes one tuple so it maps directly over ``split``."""
    lo, hi = bounds
    if lo > hi:  # a bad task must fail loudly, not count zero primes
        raise ValueError(f"bad range {bounds}: lo > hi")
    return sum(1 for n in range(lo, hi) if is_prime(n))


def split(limit: int, parts: int) -> list[tuple[int, int]]:
    """[0, limit) cut into `parts` contiguous ranges that cover it exactly once."""
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    step, extra = divmod(limit, parts)
    bounds: list[tuple[int, int]] = []
    lo = 0
    for i in range(parts):
        hi = lo + step + (1 if i < extra else 0)
        bounds.append((lo, hi))
        lo = hi
    return [b for b in bounds if b[0] < b[1]]
