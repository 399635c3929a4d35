"""Shared fixtures: the repository, and running the real snakemake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
DATA = Path(__file__).resolve().parent / "data"


def snakemake(args: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run the real snakemake CLI on this repository's Snakefile, in ``cwd``."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(cwd),
        *args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
