"""The README's promise: a Quick start block of two commands, CI running the second."""

from __future__ import annotations

import re

from conftest import REPO


def quickstart_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


def test_quickstart_block_holds_exactly_two_commands() -> None:
    assert quickstart_commands() == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    test_command = quickstart_commands()[1]
    assert any(line.strip() == test_command for line in ci.splitlines())


def test_make_targets_exist_and_install_torch_first() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo: install$", makefile, re.M)
    assert re.search(r"^test: install$", makefile, re.M)
    torch_at = makefile.index("torch==2.13.0")
    project_at = makefile.index("-e '.[test]'")
    assert torch_at < project_at
