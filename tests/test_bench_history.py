"""Bench history: records appended per run, and the check that flags a drop beyond the noise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import history  # noqa: E402

WORKLOAD = {"genome_mb": 150, "window": 200, "largest_size": 1_000_000}


def write_runs(path: Path, speedups: list[float], first: float = 3.0) -> None:
    """Records whose CPU ratio (b) is ``speedups`` and whose wall ratio swings with the load."""
    for i, value in enumerate(speedups):
        figures = {"speedup_prepared_cpu": value, "speedup_first_run_cpu": first}
        figures |= {"speedup_prepared": value * (0.5 if i % 2 else 1), "speedup_first_run": first}
        history.append("preprocess", {**WORKLOAD, **figures}, 1.0, path)


def run_check(path: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(BENCH / "history.py"), "check", "preprocess", "--history", str(path)]
    return subprocess.run(command, capture_output=True, text=True)


def test_record_holds_commit_date_machine_and_figures(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write_runs(path, [5.5, 5.4])
    records = history.read(path)
    assert len(records) == 2 and len(path.read_text().splitlines()) == 2  # appended, not rewritten
    record = records[0]
    assert len(record["commit"]) == 12 and record["date"].endswith("Z")
    assert record["machine"]["cores"] >= 1 and record["machine"]["host"]
    assert record["figures"]["speedup_prepared_cpu"] == 5.5 and record["load"]["before"] == 1.0


def test_check_passes_within_noise_and_fails_beyond(tmp_path: Path) -> None:
    ok, drop = tmp_path / "ok.jsonl", tmp_path / "drop.jsonl"
    write_runs(ok, [5.5, 5.2, 5.6, 4.5])  # -18% of the median 5.5: inside the 25% band
    write_runs(drop, [5.5, 5.2, 5.6, 2.9])  # the halving
    passed, failed = run_check(ok), run_check(drop)
    assert passed.returncode == 0 and "ok   speedup_prepared_cpu: 4.50" in passed.stdout, passed.stdout
    assert failed.returncode == 1 and "DROP speedup_prepared_cpu: 2.90" in failed.stdout, failed.stdout
    assert "median of 3 earlier runs" in failed.stdout
    # the wall ratio (halved by the load in every other record) is reported, never gated
    assert "info speedup_prepared: 2.25" in passed.stdout and "not gated" in passed.stdout


def test_check_compares_only_the_same_workload(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history.append("preprocess", {**WORKLOAD, "largest_size": 10_000, "speedup_prepared_cpu": 9.0}, 1.0, path)
    write_runs(path, [2.0])  # nothing earlier at 10^6: nothing to compare
    result = run_check(path)
    assert result.returncode == 2 and "nothing to compare" in result.stdout


def test_damaged_history_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write_runs(path, [5.5])
    with open(path, "a") as fh:
        fh.write('{"bench": "preprocess", "figu\n')
    result = run_check(path)
    assert result.returncode == 1 and f"{path}, line 2: not a JSON record" in result.stderr
    assert json.loads(path.read_text().splitlines()[0])["figures"]["speedup_prepared_cpu"] == 5.5
