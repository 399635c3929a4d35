"""Bench history: each run of a bench appends one record to ``bench/history/<bench>.jsonl``,
and ``check`` compares the latest record with the ones recorded before it.

A record: the bench, the commit (and whether the tree had uncommitted changes), the UTC
date, the machine (host, CPU model, cores, memory), the load average around the run and
the bench's own figures (its final JSON object). Records are appended, never rewritten,
so the file is the history; commit it with the change it measures.

``check`` reads the bench's ratios to the common path measured in the same run and flags
the latest value when it lies below the reference -- the median of the earlier records of
the same machine and workload -- by more than its tolerance (relative), set from the
run-to-run noise measured on this machine (docs/performance.md). The gate is on CPU-time
ratios: on this shared machine wall-time ratios of the same commit varied by a factor of
two with the load, so they are printed beside them but do not fail the check. Exit status
1 on a drop, 2 when there is nothing to compare.

    python bench/history.py check preprocess [--figure speedup_prepared] [--tolerance 0.15]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HISTORY = Path(__file__).resolve().parent / "history"
REPO = Path(__file__).resolve().parents[1]
# the figures each bench's check gates on, and the relative drop that counts as a regression
# (above the largest deviation from the median seen among same-commit runs, docs/performance.md)
CHECKS: dict[str, dict[str, float]] = {
    "preprocess": {"speedup_prepared_cpu": 0.25, "speedup_first_run_cpu": 0.25},
}
# figures printed beside them for information only (too load-dependent here to gate on)
INFO: dict[str, tuple[str, ...]] = {"preprocess": ("speedup_prepared", "speedup_first_run")}
# figures that must match for two records to be compared (the same workload)
SAME = ("genome_mb", "window", "largest_size")


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """Host, CPU model, cores and memory: what a figure was measured on."""
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {"host": platform.node(), "cpu": model, "cores": os.cpu_count(), "mem_gb": round(mem_gb, 1)}


def append(bench: str, figures: dict[str, Any], load_before: float, path: Path | None = None) -> Path:
    """Append one record of ``bench`` to its history file; returns the file."""
    path = path or HISTORY / f"{bench}.jsonl"
    record = {
        "bench": bench,
        "commit": _git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "load": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "figures": figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
    return path


def read(path: Path) -> list[dict[str, Any]]:
    """The records of a history file, oldest first (a damaged line is an error naming it)."""
    records = []
    with open(path) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as err:
                raise SystemExit(f"{path}, line {number}: not a JSON record ({err})") from None
    return records


def check(
    records: list[dict[str, Any]], figures: dict[str, float], info: tuple[str, ...] = ()
) -> tuple[bool, list[str]]:
    """(regressed, report lines): the latest record against the median of the earlier ones
    of the same machine, per figure, with each figure's relative tolerance (``info``
    figures: reported, never a regression)."""
    if len(records) < 2:
        return False, []
    latest, host = records[-1], records[-1]["machine"]["host"]
    workload = {k: latest["figures"].get(k) for k in SAME}
    earlier = [
        r for r in records[:-1]
        if r["machine"]["host"] == host and {k: r["figures"].get(k) for k in SAME} == workload
    ]  # fmt: skip
    lines, regressed = [], False
    for name, tolerance in [*figures.items(), *((name, None) for name in info)]:
        values = [r["figures"][name] for r in earlier if name in r.get("figures", {})]
        if not values or name not in latest["figures"]:
            continue
        reference, value = statistics.median(values), latest["figures"][name]
        change = value / reference - 1
        drop = tolerance is not None and change < -tolerance
        regressed |= drop
        verdict = "info" if tolerance is None else "DROP" if drop else "ok  "
        band = "not gated" if tolerance is None else f"noise band -{tolerance:.0%}"
        lines.append(
            f"{verdict} {name}: {value:.2f} at {latest['commit']} vs {reference:.2f} "
            f"(median of {len(values)} earlier runs on {host}), {change:+.0%}; {band}"
        )
    return regressed, lines


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare a bench's latest recorded figures with its history.")
    parser.add_argument("command", choices=["check"])
    parser.add_argument("bench", choices=sorted(CHECKS))
    parser.add_argument("--history", type=Path, help="the history file (default bench/history/<bench>.jsonl)")
    args = parser.parse_args()
    path = args.history or HISTORY / f"{args.bench}.jsonl"
    if not path.is_file():
        print(f"{path}: no history yet (run the bench first)", file=sys.stderr)
        sys.exit(2)
    regressed, lines = check(read(path), CHECKS[args.bench], INFO.get(args.bench, ()))
    if not lines:
        print(f"{path}: nothing to compare the latest record with (one run, or none on this machine)")
        sys.exit(2)
    print("\n".join(lines))
    sys.exit(1 if regressed else 0)


if __name__ == "__main__":
    main()
