"""Chaos benchmark: SIGKILL the workflow at seeded random moments, resume, compare.

Runs a small real config (the demo yeast genome, two tasks, deepbind + kmer_logreg,
one seed, two epochs) once uninterrupted, then in episodes: each episode starts from an
empty working directory and kills the whole process group of the running workflow
(Snakemake and its jobs) with SIGKILL while a job of a seeded target stage runs (every
stage seen in the uninterrupted run is targeted equally often, after a seeded delay of
0-0.5 s). After each kill it resumes
as docs/reliability.md says (``python -m genomicdl.core.resume <snakemake args>``); after the
episode's last kill the resume runs to the end. An episode survives when every resume
either finished or was killed by us, its results/benchmark.tsv equals the uninterrupted
run's, and no temporary (``.x.tmp<pid>``, ``.x.bed-<pid>-*``) is left.

Prints each kill (moment, the jobs it interrupted) and kills survived / N; the last line
is one JSON object.

    nice -n 19 python bench/chaos.py [--kills 20] [--per-episode 4] [--seed 13]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo" / "yeast"
TEMPORARY = re.compile(r"^\..+\.(tmp\d+(\..*)?|bed-\d+-.*)$")


def write_config(work: Path) -> Path:
    cfg = {
        "datasets": {
            "yeast": {
                "genome": {"url": f"file://{DEMO / 'genome.fa.gz'}"},
                "targets": {"Reb1": {"url": str(DEMO / "Reb1.bed")}, "Cbf1": {"url": str(DEMO / "Cbf1.bed")}},
                "blacklist": {"url": str(DEMO / "blacklist.bed")},
                "window": 100,
                "negatives": {"strategy": "gc_matched", "per_positive": 1},
                "split": {"valid": ["chrXVI"], "test": ["chrIV"]},
            }
        },
        "models": ["deepbind", "kmer_logreg"],
        "balance": ["none"],
        "seeds": [1],
        "train": {"max_epochs": 2, "patience": 1, "device": "cpu"},
        "evaluate": {"bootstrap": 10},
    }
    work.mkdir(parents=True, exist_ok=True)
    path = work / "chaos.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def snakemake_args(work: Path, cores: int) -> list[str]:
    return ["-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(work), "--cores", str(cores),
            "--configfile", str(work / "chaos.yaml")]  # fmt: skip


def start(cmd: list[str], work: Path, log: Path) -> subprocess.Popen[bytes]:
    """A command in its own process group (so a kill reaches every child)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as fh:
        return subprocess.Popen(cmd, cwd=work, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, env=env)


def resume_cmd(work: Path, cores: int) -> list[str]:
    return [sys.executable, "-m", "genomicdl.core.resume", *snakemake_args(work, cores)]


def running_jobs(work: Path, since: float = 0.0) -> list[str]:
    """Outputs Snakemake marks incomplete right now (the jobs a kill interrupts); with
    ``since`` (a time.time()), only marks made since then (not a killed run's leftovers)."""
    found = []
    for marker in (work / ".snakemake" / "incomplete").glob("*"):
        try:
            if since and marker.stat().st_mtime < since:
                continue
        except FileNotFoundError:
            continue
        try:
            found.append(base64.b64decode(marker.name, altchars=b"+_").decode())
        except ValueError:
            found.append(marker.name)
    return sorted(found)


STAGES = [
    ("resources/", "download"),
    ("data/*/genome", "prepare_genome"),
    ("data/*/rebalance/", "rebalance"),
    ("data/", "preprocess"),
    ("models/", "train"),
    ("results/plots/", "plot"),
    ("results/*/", "evaluate"),
    ("results/", "benchmark"),
]


PIPELINE = ["download", "prepare_genome", "preprocess", "rebalance", "train", "evaluate", "plot", "benchmark"]


def stage_of(output: str) -> str:
    """The stage that writes ``output`` (by its path)."""
    for prefix, stage in STAGES:
        if re.match(prefix.replace("*", "[^/]+"), output):
            return stage
    return "other"


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def leftovers(work: Path) -> list[str]:
    """Temporaries of killed writers anywhere outside .snakemake/."""
    return sorted(
        str(p.relative_to(work))
        for p in work.rglob(".*")
        if ".snakemake" not in p.relative_to(work).parts[:1] and TEMPORARY.match(p.name)
    )


def watch(
    proc: subprocess.Popen[bytes], work: Path, stage: str | None, since: float
) -> tuple[int | None, list[str]]:
    """Wait until a job of ``stage`` started after ``since`` runs (then return (None, its
    jobs)) or the run ends (then (exit status, [])); with stage None, wait for the end."""
    while True:
        rc = proc.poll()
        if rc is not None:
            return rc, []
        jobs = running_jobs(work, since)
        if stage is not None and any(stage_of(j) == stage for j in jobs):
            return None, jobs
        time.sleep(0.02)


def reference(work: Path, cores: int) -> tuple[float, str, list[str]]:
    """The uninterrupted run: its duration, benchmark and the stages seen running."""
    write_config(work)
    t0 = time.monotonic()
    proc = start([sys.executable, "-m", "snakemake", *snakemake_args(work, cores)], work, work / "run.log")
    seen: set[str] = set()
    while proc.poll() is None:
        seen.update(stage_of(j) for j in running_jobs(work))
        time.sleep(0.02)
    if proc.returncode != 0:
        sys.exit(f"the uninterrupted run failed: see {work / 'run.log'}")
    stages = sorted(seen, key=lambda s: PIPELINE.index(s) if s in PIPELINE else len(PIPELINE))
    return time.monotonic() - t0, (work / "results" / "benchmark.tsv").read_text(), stages


def episode(work: Path, plan: list[tuple[str, float]], cores: int, expected: str) -> dict:
    """For each (stage, delay) of the plan, in pipeline order: SIGKILL the run ``delay``
    seconds after a job of that stage is seen running, then resume; at the end let the
    last resume finish and compare with the uninterrupted run."""
    write_config(work)
    log = work / "run.log"
    proc = start([sys.executable, "-m", "snakemake", *snakemake_args(work, cores)], work, log)
    t_start, kills, failure, since = time.monotonic(), [], None, time.time() - 1
    for stage, delay in plan:
        rc, _ = watch(proc, work, stage, since)
        if rc is not None:  # the stage did not run again (done before): the run ended
            if rc != 0:
                failure = f"a resumed run failed (rc {rc}) before kill {len(kills) + 1}"
            break
        time.sleep(delay)
        jobs = running_jobs(work, since)
        kill_group(proc)
        kills.append({"at_s": round(time.monotonic() - t_start, 1), "target": stage, "jobs": jobs,
                      "stages": sorted({stage_of(j) for j in jobs})})  # fmt: skip
        since = time.time()
        proc = start(resume_cmd(work, cores), work, log)
    if failure is None:
        rc, _ = watch(proc, work, None, since)
        if rc != 0:
            failure = f"the final resume failed (rc {rc}); see {log}"
    bench = work / "results" / "benchmark.tsv"
    left = leftovers(work)
    if failure is None and not (bench.is_file() and bench.read_text() == expected):
        failure = "results/benchmark.tsv differs from the uninterrupted run's"
    if failure is None and left:
        failure = f"temporaries left: {left}"
    return {"kills": kills, "survived": failure is None, "failure": failure}


def plans(stages: list[str], *, kills: int, per_episode: int, rng: random.Random) -> list[list[tuple[str, float]]]:
    """Kill targets: every stage equally often (seeded order), per episode in pipeline
    order, each with a seeded delay of 0-0.5 s after the stage's first job is seen."""
    targets = [stages[i % len(stages)] for i in range(kills)]
    rng.shuffle(targets)
    out = []
    for i in range(0, kills, per_episode):
        chunk = sorted(targets[i : i + per_episode], key=stages.index)
        out.append([(stage, round(rng.uniform(0, 0.5), 2)) for stage in chunk])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs in all (N)")
    parser.add_argument("--per-episode", type=int, default=4, help="kills per episode (fresh working directory)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", default=None, help="where the runs go (a temporary folder by default)")
    args = parser.parse_args()
    root = Path(args.workdir or tempfile.mkdtemp(prefix="genomicdl-chaos-")).resolve()
    rng = random.Random(args.seed)
    duration, expected, stages = reference(root / "reference", args.cores)
    print(f"uninterrupted run: {duration:.0f} s; stages: {', '.join(stages)}", flush=True)
    episodes: list[dict] = []
    done, survived = 0, 0
    while done < args.kills:
        for plan in plans(stages, kills=args.kills - done, per_episode=args.per_episode, rng=rng):
            result = episode(root / f"episode{len(episodes)}", plan, args.cores, expected)
            for kill in result["kills"]:
                jobs = ", ".join(kill["jobs"]) or "(no job running)"
                print(f"kill {kill['target']:>14} at {kill['at_s']:6.1f} s: {jobs}", flush=True)
            done += len(result["kills"])  # a stage that did not run again is not a kill
            survived += len(result["kills"]) if result["survived"] else 0
            if not result["survived"]:
                print(f"episode {len(episodes)} FAILED: {result['failure']}", flush=True)
            episodes.append(result)
    total = sum(len(e["kills"]) for e in episodes)
    hit = sorted({k["target"] for e in episodes for k in e["kills"]}, key=stages.index)
    print(f"stages interrupted: {', '.join(hit)} (of {', '.join(stages)})")
    print(f"kills survived: {survived} / {total}")
    print(json.dumps({"kills": total, "survived": survived, "episodes": len(episodes), "stages": hit,
                      "uninterrupted_s": round(duration, 1), "seed": args.seed,
                      "failures": [e["failure"] for e in episodes if e["failure"]]}))  # fmt: skip


if __name__ == "__main__":
    main()
