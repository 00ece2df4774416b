"""The map-reduce job gives one answer, however it is run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from parallel.executors import run_map
from parallel.runtime import mp_context
from parallel.wordcount import count_file, merge, tokenize
from tools.corpus import write_corpus


def test_tokenize_lowercases_splits_on_punctuation_and_drops_stop_words() -> None:
    text = "The cat's HAT-trick, and 42 dogs. Don't stop!"
    assert tokenize(text) == ["cat's", "hat", "trick", "dogs", "don't", "stop"]


def test_corpus_is_deterministic_per_seed(tmp_path: Path) -> None:
    a = write_corpus(tmp_path / "a", size_mb=0.05, seed=1, shard_kb=16)
    b = write_corpus(tmp_path / "b", size_mb=0.05, seed=1, shard_kb=16)
    c = write_corpus(tmp_path / "c", size_mb=0.05, seed=2, shard_kb=16)
    assert len(a) == 3
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_merge_does_not_depend_on_order(shards: list[Path]) -> None:
    counts = [count_file(p) for p in shards]
    assert merge(counts) == merge(reversed(counts))


def test_total_equals_the_number_of_tokens(shards: list[Path]) -> None:
    total = merge(count_file(p) for p in shards)
    tokens = sum(len(tokenize(p.read_text(encoding="utf-8"))) for p in shards)
    assert total.total() == tokens > 0


@pytest.mark.parametrize("strategy", ["threads", "processes"])
def test_parallel_counts_equal_serial_counts(shards: list[Path], strategy: str) -> None:
    serial = merge(run_map(count_file, shards, strategy="serial"))
    parallel = merge(run_map(count_file, shards, strategy=strategy, workers=3))  # type: ignore[arg-type]
    assert parallel == serial
    assert isinstance(parallel, Counter)


def test_progress_callback_fires_once_per_task(shards: list[Path]) -> None:
    ticks: list[int] = []
    run_map(count_file, shards, workers=2, context=mp_context(), on_result=lambda: ticks.append(1))
    assert len(ticks) == len(shards)


def test_a_shard_that_is_not_text_fails_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "shard-x.txt"
    bad.write_bytes(b"ok \xff")
    with pytest.raises(ValueError, match=r"shard-x.txt is not UTF-8 text \(byte 3"):
        count_file(bad)
