"""Shared fixtures: the repository, and running the real snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
DATA = Path(__file__).resolve().parent / "data"


def srf_table(workdir: Path) -> dict:
    """The small SRF ChIP-seq table dataset of the end-to-end tests, its two files copied
    to ``workdir/inputs`` (paths relative to ``workdir``, as a user writes them)."""
    inputs = workdir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    for name in ("SRF_AC.head300.seq.gz", "SRF_B.slice300.seq.gz"):
        shutil.copy(DATA / name, inputs / name)
    return {
        "table": {
            "train": {"url": "inputs/SRF_AC.head300.seq.gz"},
            "test": {"url": "inputs/SRF_B.slice300.seq.gz"},
            "sequence_column": "seq",
            "label_columns": ["Bound"],
            "id_column": "EventID",
        },
        "negatives": {"strategy": "shuffle", "per_positive": 1},
        "split": {"valid": 0.2},
        "double_stranded": True,
    }


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


def write_protein_store(path: Path, seqs: list, positions, split, classes: tuple[str, ...]) -> Path:
    """A variable-length protein store at ``path`` with per-residue labels ``positions``
    ((n, window) class indices, -1 past each protein; the window is the longest protein)."""
    import numpy as np

    from genomicdl.core.sequence import PAD
    from genomicdl.io.store import StoreWriter
    from genomicdl.kinds.targets import Target

    window = max(len(s) for s in seqs)
    code = np.full((len(seqs), window), PAD, np.uint8)
    for i, s in enumerate(seqs):
        code[i, : len(s)] = s
    writer = StoreWriter(path, window=window, target=Target("per_position", ("ss",), classes), alphabet="protein",
                         ids=True)  # fmt: skip
    writer.append(code, labels=np.zeros((len(seqs), 0), np.uint8), split=split,
                  lengths=np.array([len(s) for s in seqs], np.int32), positions=positions,
                  ids=[f"p{i}" for i in range(len(seqs))])  # fmt: skip
    writer.close()
    return path


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One intra-op PyTorch thread for the test: on a busy 2-core machine, two spinning
    threads per process make small models an order of magnitude slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def restore_torch_settings() -> Iterator[None]:
    """PyTorch's thread count and deterministic-algorithms flag as they were before the test."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
