"""The floor plan (docs/architecture.md): packages only at the root, the layers contract,
no import cycles, plan-time code without PyTorch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "genomicdl"


def test_the_package_root_holds_only_its_init_and_packages() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py"], f"modules at the root of genomicdl/: {modules}"
    for sub in PACKAGE.iterdir():
        if sub.is_dir() and sub.name != "__pycache__":
            assert (sub / "__init__.py").exists(), f"{sub} is not a package"


def test_import_linter_contracts_hold() -> None:
    """lint-imports, the real tool, over pyproject.toml's contracts (layers, no PyTorch at plan time)."""
    exe = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _cycle(graph: grimp.ImportGraph, modules: set[str]) -> list[str] | None:
    """One import cycle among ``modules`` (depth-first search), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.find_modules_directly_imported_by(m) & modules):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(modules):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle_between_modules() -> None:
    """Counting imports inside functions too; a package's __init__ importing its own
    modules (the model registry) is not a cycle of code."""
    graph = grimp.build_graph("genomicdl")
    modules = {m for m in graph.modules if not (PACKAGE / m.split(".", 1)[-1].replace(".", "/")).is_dir()}
    assert _cycle(graph, modules) is None, " -> ".join(_cycle(graph, modules) or [])


def test_the_cycle_check_finds_a_planted_cycle(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "planted"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from planted import b\n")
    (pkg / "b.py").write_text("def f():\n    from planted import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("planted")
    assert _cycle(graph, {"planted.a", "planted.b"}) in (
        ["planted.a", "planted.b", "planted.a"],
        ["planted.b", "planted.a", "planted.b"],
    )
