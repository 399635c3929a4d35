"""The code standards, checked on every test run: ruff, snakefmt and snakemake --lint."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean() -> None:
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean() -> None:
    result = run(sys.executable, "-m", "snakefmt", "--check", "workflow/Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_is_clean() -> None:
    result = run(sys.executable, "-m", "snakemake", "--lint")
    assert result.returncode == 0 and "Congratulations" in result.stdout + result.stderr, result.stdout


def rule_blocks() -> dict[str, str]:
    """Each rule of workflow/rules/*.smk and the Snakefile: name -> its text."""
    import re

    blocks: dict[str, str] = {}
    for path in [REPO / "workflow" / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]:
        parts = re.split(r"^rule (\w+):\n", path.read_text(), flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            blocks[name] = body.split("\n\n\n")[0]  # up to the next top-level statement
    return blocks


def test_every_job_rule_declares_threads_memory_runtime_and_a_log() -> None:
    blocks = rule_blocks()
    jobs = {name: body for name, body in blocks.items() if "script:" in body or "shell:" in body}
    assert {"download", "preprocess", "train_network", "evaluate", "interpret", "score_variants"} <= set(jobs)
    for name, body in jobs.items():
        for key in ("threads:", "mem_mb=", "runtime=", "log:"):
            assert key in body, f"rule {name} declares no {key.rstrip(':=')}"
    # targets only: no code runs in them
    assert all("script:" not in blocks[name] and "shell:" not in blocks[name] for name in ("all", "benchmark"))
    for heavy in ("prepare_genome", "preprocess", "train_network", "train_baseline", "evaluate", "interpret"):
        assert "benchmark:" in blocks[heavy], f"rule {heavy} has no benchmark: file"
