"""bench.py reports what it measured: every section takes the samples the header announces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

import bench
from tools import measure


def test_every_section_takes_the_announced_number_of_samples(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: dict[str, int] = {}

    def spy(section: str) -> Any:
        def record(*args: Any) -> list[measure.Measured]:
            asked[section] = args[-1]  # each measurement takes `repeats` last
            return []

        return record

    for section in ("loading", "inserts", "checkout", "pagination"):
        monkeypatch.setattr(measure, section, spy(section))
    bench.run({"sqlite": make_url(f"sqlite:///{tmp_path / 'b.db'}")}, bench.FULL, repeats=5)
    assert asked == {"loading": 5, "inserts": 5, "checkout": 5, "pagination": 5}
