"""The GitHub workflow for forks: valid, and one matrix job per ready lesson."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

import lessons

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "ci.yml"


def test_workflow_matches_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(WORKFLOW)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_ready_lesson_has_a_matrix_job() -> None:
    matrix = yaml.safe_load(WORKFLOW.read_text())["jobs"]["lesson"]["strategy"]["matrix"]

    assert matrix["lesson"] == [lesson.name for lesson in lessons.CATALOGUE if lesson.ready]
