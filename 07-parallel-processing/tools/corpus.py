"""A deterministic text corpus, written once as shard files under var/.

Real map-reduce jobs read many files (logs, crawls, exports); so does this one. The text is
generated from a seed so every run, serial or parallel, on any machine, sees the same bytes and
must produce the same counts. Word frequencies follow a Zipf-like curve, as natural text does,
so the merge step sees a few very common words and a long tail of rare ones.
"""

from __future__ import annotations

import random
from itertools import accumulate, product
from pathlib import Path

from parallel.wordcount import STOPWORDS

SHARD_KB = 1024  # one task's worth of text: big enough that IPC is noise next to the work
_ONSETS = ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ou", "ea")
_CODAS = ("", "n", "r", "s", "t", "ck", "ng")


def vocabulary(size: int = 4000) -> list[str]:
    """Pronounceable made-up words, in a fixed order (rank 1 is the most frequent)."""
    syllables = ["".join(p) for p in product(_ONSETS, _VOWELS, _CODAS)]
    rng = random.Random(7)  # fixed: the vocabulary is part of the corpus definition
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))))
    return list(STOPWORDS) + sorted(words)


def _text(rng: random.Random, words: list[str], cum: list[float], n_bytes: int) -> str:
    """Sentences of 4-14 words, capitalised, with commas and full stops, about n_bytes long."""
    parts: list[str] = []
    size = 0
    while size < n_bytes:
        sentence = rng.choices(words, cum_weights=cum, k=rng.randint(4, 14))
        if len(sentence) > 6:
            sentence[3] += ","
        line = " ".join(sentence).capitalize() + ". "
        parts.append(line)
        size += len(line)
    return "".join(parts)


def write_corpus(
    root: Path, size_mb: float, seed: int = 42, shard_kb: int = SHARD_KB
) -> list[Path]:
    """Write (or reuse) the corpus for (size_mb, seed) and return its shard paths, in order.

    Shards are reused when present, so the second run of main.py or bench.py measures counting,
    not generation. A half-written corpus (interrupted run) lacks its ``DONE`` marker and is
    rewritten.
    """
    n_shards = max(1, round(size_mb * 1024 / shard_kb))
    folder = root / f"corpus-{seed}-{n_shards}x{shard_kb}k"
    paths = [folder / f"shard-{i:05d}.txt" for i in range(n_shards)]
    if (folder / "DONE").exists():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    words = vocabulary()
    cum = list(accumulate(1.0 / rank for rank in range(1, len(words) + 1)))
    for i, path in enumerate(paths):
        # One RNG per shard, seeded from (seed, i): any shard can be regenerated on its own.
        rng = random.Random(f"{seed}:{i}")
        path.write_text(_text(rng, words, cum, shard_kb * 1024), encoding="utf-8")
    (folder / "DONE").write_text("ok\n", encoding="utf-8")
    return paths
