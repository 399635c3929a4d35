"""Conda environments (envs/*.yaml) for `--software-deployment-method conda`.

Conda channels are not reachable in CI, so the environments are not built. Checked here:
each file is valid YAML in conda's format, its pins agree with the pip install
(requirements/constraints.txt), every rule that runs code names one, and every
third-party package that a rule's script can import is listed in that rule's env.

What a script can import, found statically: every third-party import (function-level
ones included) of the script and of each genomicdl module it reaches. The genomicdl modules
reached: those the script imports, those their functions import (the script calls them),
and transitively every module-level import of those; importing the model registry itself
reaches its classes (loaded with importlib). LAZY_ELSEWHERE lists the few function-level
imports known not to run in a rule's env.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import REPO

ENVS = REPO / "envs"
RULES = REPO / "workflow" / "rules"
PACKAGE = "genomicdl"

# import name -> conda packages that provide it (when they differ from the import name)
PROVIDERS = {
    "sklearn": {"scikit-learn"},
    "yaml": {"pyyaml"},
    "imblearn": {"imbalanced-learn"},
    "torch": {"pytorch", "torch"},
    "matplotlib": {"matplotlib", "matplotlib-base"},
    "isal": {"python-isal"},
    "Bio": {"biopython"},
    "modiscolite": {"modisco-lite"},
}
# conda package -> its pip distribution in requirements/constraints.txt
PIP_NAMES = {"pytorch": "torch", "matplotlib-base": "matplotlib", "python-isal": "isal"}
# conda packages with no pip counterpart to compare with
NOT_ON_PIP = {"python", "pip", "bedtools"}
# env file -> {import name: why its function-level import never runs in the env's rules}
LAZY_ELSEWHERE = {
    "report.yaml": {
        "torch": "genomicdl.evaluation.evaluate imports it in predict_rows, which benchmark and plots never call",
        "Bio": "genomicdl.models.networks.protein_features imports it to build BLOSUM networks, which plots never do",
    },
}
REGISTRY_TARGET = re.compile(rf"^({PACKAGE}(?:\.\w+)+):\w+$")


@dataclass
class Env:
    """A conda environment file: channels, conda packages and pip packages with their pins."""

    path: Path
    channels: list[str]
    conda: dict[str, str] = field(default_factory=dict)
    pip: dict[str, str] = field(default_factory=dict)

    def provides(self, module: str) -> bool:
        names = PROVIDERS.get(module, {module})
        listed = {n.lower() for n in (*self.conda, *self.pip)}
        return any(n.lower() in listed for n in names)


def load_env(path: Path) -> Env:
    """Parse a conda environment file; raises AssertionError naming what is malformed."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: not a YAML mapping"
    assert set(data) <= {"name", "channels", "dependencies"}, f"{path.name}: unexpected keys {set(data)}"
    channels = data.get("channels") or []
    assert channels and all(isinstance(c, str) for c in channels), f"{path.name}: channels must be a list of names"
    env = Env(path, channels)
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"{path.name}: only a `pip:` list may nest in dependencies, got {dep}"
            for line in dep["pip"]:
                if line.startswith("-"):  # pip options, e.g. --extra-index-url
                    continue
                match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
                assert match, f"{path.name}: pip requirement {line!r} is not pinned as name==version"
                env.pip[match[1]] = match[2]
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:=([^=\s]+)(?:=(\S+))?)?", str(dep))
        assert match, f"{path.name}: dependency {dep!r} is not `name`, `name=version` or `name=version=build`"
        env.conda[match[1]] = match[2] or ""
    return env


def pip_pins() -> dict[str, str]:
    """pip distribution (lower case) -> the version the pip install uses: the pins of
    requirements/constraints.txt and the `==` dependencies of pyproject.toml (torch)."""
    lines = (REPO / "requirements" / "constraints.txt").read_text().splitlines()
    lines += tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for line in lines:
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


# ------------------------------------------------------------------ rules


@dataclass
class Rule:
    """What a rule runs and in which environment (paths relative to the repository)."""

    name: str
    env: str | None = None
    script: str | None = None
    shell: bool = False
    parent: str | None = None


def parse_rules() -> dict[str, Rule]:
    """Rules of workflow/rules/*.smk (snakefmt-formatted) with their conda: and script:."""
    rules: dict[str, Rule] = {}
    for smk in sorted(RULES.glob("*.smk")):
        current: Rule | None = None
        directive = None
        for line in smk.read_text().splitlines():
            if head := re.match(r"^rule (\w+):", line):
                current = rules[head[1]] = Rule(head[1])
            elif head := re.match(r"^use rule (\w+) as (\w+) with:", line):
                current = rules[head[2]] = Rule(head[2], parent=head[1])
            elif line and not line[0].isspace():
                current = None
            elif current and (key := re.match(r"^    (\w+):", line)):
                directive = key[1]
                current.shell |= directive in ("shell", "run", "wrapper", "notebook")
            elif current and directive in ("conda", "script") and (value := re.match(r'^\s+"([^"]+)"', line)):
                path = (smk.parent / value[1]).resolve().relative_to(REPO).as_posix()
                setattr(current, "env" if directive == "conda" else "script", path)
    for rule in rules.values():  # `use rule ... with:` inherits what it does not override
        if rule.parent:
            parent = rules[rule.parent]
            rule.env, rule.script = rule.env or parent.env, rule.script or parent.script
            rule.shell |= parent.shell
    return rules


# ------------------------------------------------------------------ imports


def module_path(module: str) -> Path | None:
    """The source file of a genomicdl module (None for names that are not modules)."""
    base = REPO.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@cache
def imports(path: Path) -> tuple[frozenset[str], frozenset[str], bool]:
    """(module-level imports, function-level imports, uses importlib) of a source file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    top: set[str] = set()
    lazy: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        names: set[str] = set()
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            names = {base}
            # `from genomicdl.training import devices` imports the module genomicdl.training.devices
            names |= {f"{base}.{a.name}" for a in node.names if module_path(f"{base}.{a.name}")}
        (lazy if in_function else top).update(n for n in names if n)
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return frozenset(top), frozenset(lazy), "import_module" in path.read_text()


def registry_modules() -> set[str]:
    """Modules named by the model registry ("genomicdl.models.x:Class" strings)."""
    found = set()
    for path in (REPO / PACKAGE).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and (match := REGISTRY_TARGET.match(str(node.value))):
                found.add(match[1])
    return found


def is_own(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def third_party(modules: set[str] | frozenset[str]) -> set[str]:
    tops = {m.split(".")[0] for m in modules if not is_own(m)}
    return {t for t in tops if t not in sys.stdlib_module_names and t != "__future__"}


def script_packages(script: Path) -> set[str]:
    """Top-level third-party import names a rule's script can reach (see the module doc)."""
    top, lazy, _ = imports(script)
    for helper in [m for m in top if (script.parent / f"{m}.py").is_file()]:  # scripts/_entry.py, the shim
        helper_top, helper_lazy, _ = imports(script.parent / f"{helper}.py")
        top, lazy = (top - {helper}) | helper_top, lazy | helper_lazy
    needed = third_party(top | lazy)
    entries = {m for m in top | lazy if is_own(m) and module_path(m)}
    todo = set(entries)
    for entry in entries:  # the script calls these modules' functions: their lazy imports run
        _, entry_lazy, _ = imports(module_path(entry))
        todo |= {m for m in entry_lazy if is_own(m) and module_path(m)}
    seen: set[str] = set()
    parents: set[str] = set()  # packages run only because a submodule was imported
    while todo or parents:
        explicit = bool(todo)
        module = todo.pop() if todo else parents.pop()
        parents.discard(module)
        if module in seen:
            continue
        seen.add(module)
        # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = module.split(".")
        parents |= {".".join(parts[:i]) for i in range(1, len(parts))} - seen - todo
        mod_top, mod_lazy, dynamic = imports(module_path(module))
        needed |= third_party(mod_top | mod_lazy)
        todo |= {m for m in mod_top if is_own(m) and module_path(m)} - seen
        if dynamic and explicit:  # whoever imports the registry itself may build its models
            todo |= registry_modules() - seen
    return needed


# ------------------------------------------------------------------ tests

ENV_FILES = sorted(ENVS.glob("*.yaml"))


def test_env_files_exist() -> None:
    assert {p.stem for p in ENV_FILES} >= {"data", "torch", "report"}


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_file_is_valid_and_pinned_like_the_pip_install(path: Path) -> None:
    env = load_env(path)
    assert env.conda.get("python", "").startswith("3.11"), f"{path.name}: pin python=3.11 (the pip install's Python)"
    assert "defaults" not in env.channels, f"{path.name}: the defaults channel needs a licence for many users"
    pins = pip_pins()
    for name, version in [*env.conda.items(), *env.pip.items()]:
        if name in NOT_ON_PIP:
            continue
        assert version, f"{path.name}: {name} is not pinned"
        pip_name = PIP_NAMES.get(name, name).lower()
        assert pip_name in pins, f"{path.name}: {name} is not part of the pip install (requirements/constraints.txt)"
        installed, pinned = pins[pip_name].split("+")[0], version.split("+")[0]  # 2.13.0+cpu is 2.13.0
        assert installed == pinned or installed.startswith(pinned + "."), (
            f"{path.name}: {name}={version} but the pip install uses {pip_name}=={pins[pip_name]}"
        )


def test_every_rule_that_runs_code_names_an_existing_env() -> None:
    rules = parse_rules()
    assert {"download", "preprocess", "train_network", "evaluate", "summarize", "plot_calibration"} <= set(rules)
    for rule in rules.values():
        if rule.script or rule.shell:
            assert rule.env, f"rule {rule.name} runs code but has no conda: directive"
            assert (REPO / rule.env).is_file(), f"rule {rule.name}: {rule.env} does not exist"
    used = {rule.env for rule in rules.values() if rule.env}
    assert {f"envs/{p.name}" for p in ENV_FILES} == used, "every env file is used by a rule, and only those exist"


@pytest.mark.parametrize("rule", sorted(r.name for r in parse_rules().values() if r.script), ids=str)
def test_rule_env_lists_every_package_its_script_imports(rule: str) -> None:
    spec = parse_rules()[rule]
    env = load_env(REPO / spec.env)
    needed = script_packages(REPO / spec.script) - set(LAZY_ELSEWHERE.get(env.path.name, {}))
    missing = sorted(m for m in needed if not env.provides(m))
    assert not missing, f"rule {rule} runs {spec.script} in {spec.env}, which lacks {missing}"


def test_the_import_analysis_sees_lazy_and_registry_imports() -> None:
    # train reaches the networks through the registry (importlib) and sklearn lazily
    assert {"torch", "sklearn", "h5py", "numpy", "tqdm"} <= script_packages(REPO / "scripts" / "train.py")
    # the plots import the benchmark module inside a function: its scipy counts
    assert "scipy" in script_packages(REPO / "scripts" / "plot.py")
    # nothing in the data stage pulls in PyTorch
    assert "torch" not in script_packages(REPO / "scripts" / "preprocess.py")
