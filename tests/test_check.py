"""`lessons.py check`: what it reports for a lesson that lacks part of the guide's anatomy."""

from __future__ import annotations

from pathlib import Path

import pytest

import lessons

SECTIONS = [
    "What you'll learn", "Run it", "How it works", "Measured",
    "When things go wrong", "Exercises", "Going further",
]  # fmt: skip


def write_lesson(root: Path, sections: list[str] = SECTIONS, extra: str = "") -> lessons.Lesson:
    lesson = lessons.Lesson("42-demo", "a demo")
    folder = root / lesson.name
    (folder / "tests").mkdir(parents=True)
    for name in ("requirements.txt", "main.py", "bench.py", ".env.example", "pytest.ini"):
        (folder / name).write_text("")
    (folder / "requirements.txt").write_text("httpx>=0.27,<1\n")
    (folder / "tests" / "conftest.py").write_text("")
    (folder / "tests" / "test_demo.py").write_text("def test_x(): assert 1\n")
    body = "\n\n".join(f"## {s}\ntext" for s in sections)
    (folder / "README.md").write_text(f"# Demo\nwhy\n\n{body}\n{extra}")
    return lesson


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(lessons, "ROOT", tmp_path)
    return tmp_path


def test_a_complete_lesson_has_no_problems(root: Path) -> None:
    assert lessons.check_lesson(write_lesson(root)) == []


def test_missing_files_are_named(root: Path) -> None:
    lesson = write_lesson(root)
    (lesson.path / "bench.py").unlink()
    (lesson.path / "pytest.ini").unlink()

    problems = lessons.check_lesson(lesson)

    assert "missing bench.py" in problems
    assert any(p.startswith("missing pytest.ini") for p in problems)


def test_missing_and_misordered_sections_are_reported(root: Path) -> None:
    missing = lessons.check_lesson(write_lesson(root, SECTIONS[:-1]))
    assert missing == ["README has no section ['going further']"]


def test_sections_out_of_order(root: Path) -> None:
    swapped = [SECTIONS[1], SECTIONS[0], *SECTIONS[2:]]

    assert lessons.check_lesson(write_lesson(root, swapped)) == [
        "README sections out of order: " + ", ".join(lessons.README_SECTIONS)
    ]


def test_a_broken_picture_link_and_an_exact_pin_are_reported(root: Path) -> None:
    lesson = write_lesson(root, extra="![plot](docs/plot.png)\n")
    (lesson.path / "requirements.txt").write_text("httpx==0.28.1\n")

    problems = lessons.check_lesson(lesson)

    assert "README links to docs/plot.png, which does not exist" in problems
    assert any("pins exactly" in p for p in problems)


def test_a_readme_too_long_to_read_in_15_minutes_is_reported(root: Path) -> None:
    lesson = write_lesson(root, extra="word " * 2300 + "\n```\n" + "code " * 5000 + "\n```\n")

    problems = lessons.check_lesson(lesson)

    assert len(problems) == 1 and problems[0].startswith("README is 23")  # code blocks not counted


def test_commands_and_output_in_code_blocks_do_not_count_as_reading(root: Path) -> None:
    lesson = write_lesson(root, extra="```\n" + "output " * 5000 + "\n```\n")

    assert lessons.check_lesson(lesson) == []


@pytest.mark.parametrize(
    "line", ["from demo.tour import walk", "import bench", "from tests.conftest import x"]
)
def test_a_concept_package_that_imports_its_rig_is_reported(root: Path, line: str) -> None:
    lesson = write_lesson(root)
    package = lesson.path / "chat"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hub.py").write_text(f"from chat import protocol\n{line}\n")
    (lesson.path / "demo").mkdir()
    (lesson.path / "demo" / "__init__.py").write_text(
        "from chat import hub\n"
    )  # rig -> concept: fine

    problems = lessons.check_lesson(lesson)

    assert problems == [
        f"the concept package imports its rig: chat/hub.py imports {line.split()[1]}"
    ]
