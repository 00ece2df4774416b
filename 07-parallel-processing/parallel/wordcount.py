"""The map-reduce job: tokenise each shard (map), count it, merge the counts (reduce).

``count_file`` is the map step. It runs in a worker, so it takes a *path* (a few bytes to
pickle) and returns a Counter (a few thousand entries): the megabytes of text never cross a
process boundary. ``merge`` is the reduce step; Counter addition is associative and commutative,
so shards may finish in any order and the total is still identical to the serial run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# Letters with inner apostrophes ("don't"), nothing else: digits and punctuation split words.
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
# In frequency order: the corpus generator (tools/corpus.py) makes them its most common words.
STOPWORDS = ("the", "and", "of", "to", "a", "in", "is", "it", "that", "for")
_STOP = frozenset(STOPWORDS)  # a set for the lookup: one hash per word


def tokenize(text: str) -> list[str]:
    """Lower-case words without stop words: 'The cat, the HAT.' -> ['cat', 'hat']."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def count_file(path: Path) -> Counter[str]:
    """Map: one shard -> its word counts. A shard that is not text fails with its name."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    return Counter(tokenize(text))


def merge(counts: Iterable[Counter[str]]) -> Counter[str]:
    """Reduce: add the shards' counts. Order does not matter; the result is the same."""
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return total
