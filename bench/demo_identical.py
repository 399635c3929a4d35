"""Are the demo's outputs identical at two commits? (issue 21: a redesign changes no output)

    python bench/demo_identical.py --base e1485d5            # run the demo at base and at HEAD
    python bench/demo_identical.py --base-results A --head-results B   # compare two finished runs

Each commit runs in its own detached worktree under a temporary folder (`snakemake --cores
N`, the embedded default config) with PYTHONPATH set to that worktree, so the two runs
import their own code. Compared byte for byte: results/benchmark.tsv, metrics.tsv,
summary.tsv, comparisons.tsv (columns naming seconds or time dropped, were there any) and
every bigWig the predict stage wrote. Prints one line per file and exits 1 on any
difference. Timed: each demo run's wall seconds (printed; the comparison is the point).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("benchmark.tsv", "metrics.tsv", "summary.tsv", "comparisons.tsv")
TIMING = re.compile(r"second|time|wall|cpu", re.I)


def run_demo(rev: str, where: Path, cores: int) -> Path:
    """The demo's results/ of ``rev``, run in a fresh detached worktree at ``where``."""
    subprocess.run(["git", "worktree", "add", "--detach", str(where), rev], cwd=ROOT, check=True)
    env = {**os.environ, "PYTHONPATH": str(where)}
    snakemake = Path(sys.executable).with_name("snakemake")
    t0 = time.time()
    subprocess.run([str(snakemake), "--cores", str(cores), "--quiet"], cwd=where, env=env, check=True)
    print(f"demo at {rev}: {time.time() - t0:.0f} s wall")
    return where / "results"


def table_text(path: Path) -> str:
    """A TSV without its timing columns, as text."""
    rows = list(csv.reader(path.read_text().splitlines(), delimiter="\t"))
    keep = [i for i, name in enumerate(rows[0]) if not TIMING.search(name)] if rows else []
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n").writerows([[r[i] for i in keep] for r in rows])
    return out.getvalue()


def compare(base: Path, head: Path) -> list[str]:
    """The files that differ (or exist on one side only)."""
    differ = []
    for name in TABLES:
        a, b = base / name, head / name
        if a.exists() != b.exists() or (a.exists() and table_text(a) != table_text(b)):
            differ.append(name)
        print(f"{'differs' if name in differ else 'same   '}  results/{name}")
    tracks = sorted({p.relative_to(root) for root in (base, head) for p in root.rglob("*.bw")})
    for rel in tracks:
        a, b = base / rel, head / rel
        same = a.exists() and b.exists() and a.read_bytes() == b.read_bytes()
        if not same:
            differ.append(str(rel))
        print(f"{'same   ' if same else 'differs'}  results/{rel}")
    if not tracks:
        differ.append("no predicted bigWig")
    return differ


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", help="commit to compare against (run in a worktree)")
    ap.add_argument("--head", default="HEAD", help="commit to check (default HEAD)")
    ap.add_argument("--base-results", type=Path, help="a finished run's results/ instead of running --base")
    ap.add_argument("--head-results", type=Path, help="a finished run's results/ instead of running --head")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="demo-identical-") as tmp:
        try:
            base = args.base_results or run_demo(args.base, Path(tmp) / "base", args.cores)
            head = args.head_results or run_demo(args.head, Path(tmp) / "head", args.cores)
            differ = compare(base, head)
        finally:
            for tree in (Path(tmp) / "base", Path(tmp) / "head"):
                if tree.exists():
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    print("identical" if not differ else f"{len(differ)} differ: {', '.join(differ)}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
