"""The mutation run behind ``python main.py mutate`` and ``python bench.py``.

mutmut makes small changes (mutants) to orders/domain.py and runs the unit tests against each:
a mutant the tests still pass on is a line that runs without being checked. pytest's own
settings come from the lesson's pytest.ini (copied along, the one source); the arguments
below only switch off what a mutation run must not have.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orders.settings import LESSON_DIR, VAR_DIR

# --no-cov: one tier runs, not the suite, so the coverage threshold would fail it.
# no:randomly: mutmut maps tests to mutants and wants the same order every run.
# --hypothesis-profile=ci: derandomized examples, so the score is the same on every run
# (the "dev" profile explores new examples, which could kill a mutant one run and not the next).
PYTEST_ARGS = ["-q", "--no-cov", "-p", "no:randomly", "-p", "no:cacheprovider"]
PYTEST_ARGS += ["--hypothesis-profile=ci"]

MUTMUT_CONFIG = f"""\
[tool.mutmut]
source_paths = ["orders"]
only_mutate = ["orders/domain.py"]
also_copy = ["testkit", "pytest.ini", ".coveragerc"]
pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}
pytest_add_cli_args_test_selection = ["tests/unit"]
"""


class MutationRunFailed(Exception):
    """mutmut itself failed (not a surviving mutant: a broken run)."""


def run_mutation(max_children: int) -> str:
    """Mutation-test orders/domain.py now; return the score line, diffs in var/mutation.txt.

    ``python main.py mutate`` and ``python bench.py`` both call this, so the score either
    prints is measured on the code as it is, never read back from an earlier run.
    """
    VAR_DIR.mkdir(exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    # mutmut copies the project into ./mutants and rewrites it; doing that in a temporary
    # directory keeps the lesson folder clean.
    with tempfile.TemporaryDirectory(prefix="orders-mutation-") as tmp:
        work = Path(tmp)
        for folder in ("orders", "tests", "testkit"):
            shutil.copytree(LESSON_DIR / folder, work / folder, ignore=ignore)
        for name in ("pytest.ini", ".coveragerc"):
            shutil.copy(LESSON_DIR / name, work / name)
        (work / "pyproject.toml").write_text(MUTMUT_CONFIG)

        def mutmut(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "mutmut", *args], cwd=work, capture_output=True, text=True
            )
            if done.returncode != 0:
                (VAR_DIR / "mutmut.log").write_text(done.stdout + done.stderr)
                raise MutationRunFailed(
                    f"mutmut {args[0]} failed (exit {done.returncode}); output: var/mutmut.log"
                )
            return done.stdout

        mutmut("run", "--max-children", str(max_children))
        mutmut("export-cicd-stats")
        stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
        survivors = re.findall(r"^\s+(\S+): survived$", mutmut("results"), re.M)
        diffs = [mutmut("show", name) for name in survivors]

    tested = stats["killed"] + stats["survived"] + stats["timeout"] + stats["suspicious"]
    score = 100 * (stats["killed"] + stats["timeout"]) / max(tested, 1)
    summary = (
        f"mutation score: {score:.1f}% ({stats['killed']} killed, {stats['survived']} survived, "
        f"{stats['timeout']} timeout, {stats['no_tests']} without tests, of {stats['total']})"
    )
    (VAR_DIR / "mutation.txt").write_text("\n".join([summary, "", *diffs]))
    return summary
