"""Cluster execution: the two profiles, and the tiny workflow run on a real SLURM.

The profile tests read the settings Snakemake's own command-line parser derives from
workflow/profiles/default and profiles/slurm. The SLURM tests run the tiny workflow with
`--profile profiles/slurm` on a single-node SLURM on localhost that
tests/slurm/local-slurm.sh installs (apt), starts before the first test and stops after
the last, then check from slurmctld's own records that every rule but the local ones ran
as a SLURM job, that the training job got a GPU from SLURM (two fake ones: device nodes
SLURM hands out as CUDA_VISIBLE_DEVICES), and that results/benchmark.tsv equals a local
run's.

Without an accounting daemon the plugin reads job states from squeue (MinJobAge=1800 in
the test's slurm.conf keeps finished jobs listed); both runs have hard timeouts. A SLURM
that already answers `sinfo` is used as it is (and left running); otherwise starting one
needs root, and the SLURM tests skip, saying so, where neither is possible.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import pytest
import yaml
from conftest import DEMO, REPO

from genomicdl.training.devices import has_gpu, visible_devices

SCRIPT = REPO / "tests" / "slurm" / "local-slurm.sh"
SLURM_STATE = Path(os.environ.get("GENOMICDL_SLURM_DIR", "/tmp/genomicdl-slurm"))  # the script's state directory
SLURM_PROFILE = REPO / "profiles" / "slurm"
LOCAL_RULES = {"download", "all"}  # localrules of the workflow, and the target rule
SLURM_TIMEOUT_S = 540
LOCAL_TIMEOUT_S = 300
# Settings for a test SLURM without accounting: status from squeue, checked soon after
# submission; keep the plugin's per-job logs; a job-name prefix to find (and cancel) them.
JOB_PREFIX = f"gdltest{os.getpid()}"
SLURM_TEST_ARGS = [
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-keep-successful-logs",
    "--slurm-jobname-prefix",
    JOB_PREFIX,
]
# On a host with real NVIDIA GPUs a SLURM GPU job would really use one, and its numbers
# would not equal the CPU run's: train on the CPU there (and skip the GPU check).
REAL_GPU = has_gpu()


# ------------------------------------------------------------------ profiles


def effective_args(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None
) -> argparse.Namespace:
    """The settings Snakemake derives from ``argv`` and the profiles (its own parser)."""
    from snakemake.cli import parse_args

    monkeypatch.delenv("SNAKEMAKE_PROFILE", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    argv = ["-s", str(REPO / "workflow" / "Snakefile"), *argv]
    monkeypatch.setattr(sys, "argv", ["snakemake", *argv])  # the workstation profile reads it
    return parse_args(argv)[1]


def test_slurm_profile_requests_what_a_cluster_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    args = effective_args(["--profile", str(SLURM_PROFILE)], monkeypatch, env={"GENOMICDL_TRAIN_GPUS": "1"})
    assert args.executor == "slurm"
    assert args.jobs >= 10 and args.latency_wait >= 30 and args.retries >= 1
    assert args.rerun_incomplete and args.printshellcmds
    # nothing capped on the submit host: GPUs are SLURM's to hand out, threads unbounded
    assert args.cores is None and "gpu" not in args.resources
    assert {"mem_mb", "runtime"} <= set(args.default_resources.keys())
    training = args.set_resources["train_network"]
    assert {"gpu", "cpus_per_gpu", "mem_mb", "runtime"} <= set(training)
    # one GPU per rank: the count workflow/rules/train.smk exports (1 by default)
    assert eval(os.path.expandvars(training["gpu"].raw), {}, {}) == 1


def test_slurm_profile_leaves_plugin_managed_options_out_of_slurm_extra() -> None:
    from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())
    extras = [str(profile.get("default-resources", {}).get("slurm_extra", ""))]
    extras += [str(res.get("slurm_extra", "")) for res in profile.get("set-resources", {}).values()]
    for extra in extras:
        for pattern, option in get_forbidden_slurm_options().items():
            assert not re.search(pattern, extra), f"slurm_extra sets the {option}, which the plugin manages"


def test_workstation_profile_caps_gpus_and_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    args = effective_args(["-n"], monkeypatch)
    assert args.executor is None and isinstance(args.cores, int) and args.cores >= 1  # cores: all
    # the GPUs genomicdl.training.devices sees (at least 1: harmless without, trainings then declare gpu=0)
    assert args.resources["gpu"].value == max(1, len(visible_devices()))
    assert 0 < args.resources["mem_mb"].value < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    assert "train_network" in args.set_resources
    assert not args.set_threads  # threads follow the network (genomicdl.training.threads)
    assert args.rerun_incomplete and args.printshellcmds


def test_workstation_profile_counts_the_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    args = effective_args(["-n"], monkeypatch, env={"CUDA_VISIBLE_DEVICES": "0,1,3"})
    assert args.resources["gpu"].value == 3


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--profile", str(SLURM_PROFILE)], {}),
        ([f"--profile={SLURM_PROFILE}"], {}),
        ([], {"SNAKEMAKE_PROFILE": str(SLURM_PROFILE)}),
    ],
    ids=["--profile", "--profile=", "SNAKEMAKE_PROFILE"],
)
def test_workstation_profile_steps_aside_for_a_global_profile(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = effective_args(argv, monkeypatch, env=env)
    assert args.executor == "slurm"
    assert "gpu" not in args.resources and not args.set_threads and args.cores is None
    # ... unless asked for by name
    forced = effective_args(
        [*argv, "--workflow-profile", str(REPO / "workflow" / "profiles" / "default")], monkeypatch, env=env
    )
    assert forced.resources["gpu"].value >= 1


# ------------------------------------------------------------------ a real SLURM


@dataclass
class Slurm:
    """The SLURM the tests submit to; ``managed`` when it is tests/slurm/local-slurm.sh's."""

    managed: bool


def answers(*cmd: str) -> bool:
    """The command exists and exits 0 within 15 s."""
    if not shutil.which(cmd[0]):
        return False
    try:
        return subprocess.run(cmd, capture_output=True, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def hold(handle: IO[str], mode: int, timeout: float = 900) -> None:
    """flock ``handle`` in ``mode``, waiting at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"{handle.name} stayed locked for {timeout:.0f} s")
            time.sleep(1)


@pytest.fixture(scope="session")
def slurm() -> Iterator[Slurm]:
    """A SLURM on this machine: one already answering `sinfo`, else (as root) the local one
    of tests/slurm/local-slurm.sh, started here when needed (installed with apt when
    missing). Concurrent sessions share the local one: each holds a shared lock on a file
    in its state directory while it submits, and the last one out stops the daemons."""
    root = os.geteuid() == 0
    if not (root and answers(str(SCRIPT), "status")) and answers("sinfo", "-h"):
        gres = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True, timeout=15).stdout
        if "gpu" not in gres:
            pytest.skip(f"the running SLURM offers no gpu GRES (sinfo: {gres.strip()!r}); the test trains with gpu=1")
        yield Slurm(managed=False)
        return
    if not root:
        pytest.skip("no SLURM answers `sinfo` here, and starting one (apt-get, munged, slurmctld, slurmd) needs root")
    SLURM_STATE.mkdir(parents=True, exist_ok=True)
    with open(SLURM_STATE / "sessions.lock", "a") as handle:
        try:
            hold(handle, fcntl.LOCK_SH)  # waits only while another session starts or stops it
            if not answers(str(SCRIPT), "status"):
                fcntl.flock(handle, fcntl.LOCK_UN)
                hold(handle, fcntl.LOCK_EX)
                started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=900)
                if started.returncode != 0:
                    pytest.fail(f"{SCRIPT.name} start failed:\n{started.stdout}{started.stderr}")
                fcntl.flock(handle, fcntl.LOCK_SH)
            yield Slurm(managed=True)
        finally:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another session still submits: the last one stops the daemons
            else:
                subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=180)


def tiny_config(path: Path, device: str) -> Path:
    """One genome dataset from the bundled demo data (absolute paths), two models."""
    yeast = DEMO / "yeast"
    cfg = {
        "datasets": {
            "tiny": {
                "genome": {"url": str(yeast / "genome.fa.gz")},
                "targets": {"Reb1": {"url": str(yeast / "Reb1.bed")}, "Cbf1": {"url": str(yeast / "Cbf1.bed")}},
                "blacklist": {"url": str(yeast / "blacklist.bed")},
                "window": 100,
                "negatives": {"strategy": "gc_matched", "per_positive": 1},
                "split": {"valid": ["chrXVI"], "test": ["chrIV"]},
            }
        },
        "models": ["deepbind", "kmer_logreg"],
        "balance": ["none"],
        "seeds": [1],
        "train": {"max_epochs": 3, "patience": 2, "device": device},
        "evaluate": {"bootstrap": 20},
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@dataclass
class Run:
    """A finished snakemake run: its directory, exit status, log and wall time."""

    workdir: Path
    returncode: int
    log: str
    seconds: float


def run_snakemake(workdir: Path, args: list[str], env: dict[str, str], timeout: int) -> Run:
    """The real snakemake CLI on this repository's Snakefile, in ``workdir``."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    start = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        cancel_test_jobs()
        output = "".join(o.decode(errors="replace") for o in (err.stdout, err.stderr) if o)  # bytes, even with text
        pytest.fail(f"snakemake {' '.join(args)} ran past {timeout} s; last lines:\n{output[-3000:]}")
    return Run(workdir, done.returncode, done.stdout + done.stderr, time.monotonic() - start)


def cancel_test_jobs() -> None:
    """Cancel the SLURM jobs of this test session (by their job-name prefix)."""
    listed = subprocess.run(["squeue", "-h", "-o", "%A %j"], capture_output=True, text=True, timeout=30).stdout
    ids = [job for job, _, name in (line.partition(" ") for line in listed.splitlines()) if name.startswith(JOB_PREFIX)]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, timeout=30)


@dataclass
class Runs:
    """The same tiny workflow run on SLURM and locally, and slurmctld's records of the
    SLURM run's jobs (SLURM job id -> state, rule, TRES per job)."""

    cluster: Run
    local: Run
    jobs: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def runs(slurm: Slurm, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("slurm")
    config = tiny_config(base / "tiny.yaml", "cpu" if REAL_GPU else "auto")
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SNAKEMAKE_PROFILE")}
    env["PYTHONUNBUFFERED"] = "1"
    # the cluster run: any CUDA_VISIBLE_DEVICES a job sees was set by SLURM (sbatch exports ours)
    (base / "cluster").mkdir()
    cluster = run_snakemake(
        base / "cluster",
        ["--profile", str(SLURM_PROFILE), "--configfile", str(config), *SLURM_TEST_ARGS],
        env,
        SLURM_TIMEOUT_S,
    )
    assert cluster.returncode == 0, failed_job_logs(cluster)
    jobs = slurm_jobs(cluster)  # read now, while slurmctld still lists the finished jobs
    # the reference: the workstation profile, on the CPU, the benchmark table only
    (base / "local").mkdir()
    local = run_snakemake(
        base / "local",
        ["results/benchmark.tsv", "--cores", "2", "--configfile", str(config)],
        {**env, "CUDA_VISIBLE_DEVICES": ""},
        LOCAL_TIMEOUT_S,
    )
    assert local.returncode == 0, local.log[-4000:]
    return Runs(cluster, local, jobs)


def failed_job_logs(run: Run) -> str:
    """The end of the snakemake log and of the plugin's logs of failed SLURM jobs."""
    text = run.log[-4000:]
    for path in re.findall(r"SLURM-job '\d+' failed.*?log: (\S+)", run.log):
        if Path(path).is_file():
            text += f"\n--- {path}\n{Path(path).read_text()[-2000:]}"
    return text


def slurm_jobs(run: Run) -> dict[str, dict[str, str]]:
    """slurmctld's records of the run's jobs: SLURM job id -> state, rule, TRES per job."""
    run_id = re.search(r"SLURM run ID: (\S+)", run.log)
    assert run_id, "no SLURM run ID in the snakemake log: the slurm executor did not start"
    listed = subprocess.run(
        ["squeue", "--states=all", "-h", "--name", run_id[1], "-o", "%i|%T|%k"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    jobs = {}
    for line in listed.stdout.splitlines():
        job_id, state, comment = line.split("|", 2)
        rule = re.match(r"rule_(.+?)(?:_wildcards_.*)?$", comment)
        shown = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, timeout=30).stdout
        tres = re.search(r"TresPerJob=(\S+)", shown)
        jobs[job_id] = {"state": state, "rule": rule[1] if rule else comment, "tres": tres[1] if tres else ""}
    return jobs


def job_rules(log: str) -> dict[str, tuple[str, bool]]:
    """Snakemake job id -> (rule, ran locally) from the job blocks of a snakemake log."""
    blocks = re.finditer(r"^(localrule|rule) (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", log, re.M)
    return {m[3]: (m[2], m[1] == "localrule") for m in blocks}


def planned_jobs(log: str) -> Counter[str]:
    """The "Job stats" table: rule -> number of jobs."""
    table = log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^(\w+)\s+(\d+)$", table, re.M)
    return Counter({rule: int(n) for rule, n in rows if rule != "total"})


@pytest.mark.e2e
def test_every_rule_but_the_local_ones_ran_as_a_slurm_job(runs: Runs) -> None:
    log = runs.cluster.log
    planned = planned_jobs(log)
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    rules = job_rules(log)
    jobs = runs.jobs
    # snakemake: every job of a non-local rule was submitted, the local ones were not
    assert {rule for rule, local in rules.values() if local} == LOCAL_RULES
    for smk_id, (rule, local) in rules.items():
        assert (smk_id in submitted) != local, f"job {smk_id} ({rule}): local={local}, submitted={smk_id in submitted}"
    # slurmctld: one completed job per planned job of each non-local rule
    assert all(job["state"] == "COMPLETED" for job in jobs.values()), jobs
    assert set(submitted.values()) == set(jobs)
    on_slurm = Counter(job["rule"] for job in jobs.values())
    assert on_slurm == Counter({rule: n for rule, n in planned.items() if rule not in LOCAL_RULES})
    assert len(on_slurm) >= 12  # the tiny workflow's non-local rules: data, training, evaluation, benchmark, plots
    summary = {
        "slurm_jobs": {job_id: job["rule"] for job_id, job in sorted(jobs.items(), key=lambda kv: int(kv[0]))},
        "slurm_run_s": round(runs.cluster.seconds, 1),
        "local_run_s": round(runs.local.seconds, 1),
    }
    (runs.cluster.workdir / "slurm-summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))


@pytest.mark.e2e
def test_training_job_saw_the_gpu_slurm_gave_it(runs: Runs) -> None:
    jobs = runs.jobs
    gpu_jobs = {job["rule"] for job in jobs.values() if "gpu" in job["tres"]}
    assert gpu_jobs == {"train_network"}, jobs  # gpu=1 via set-resources, on no other rule
    if REAL_GPU:
        pytest.skip("this host has real NVIDIA GPUs: the test trains on the CPU, for numbers equal to the local run")
    # SLURM set CUDA_VISIBLE_DEVICES in the job (none came from here), and the training
    # engine's slot allocator (genomicdl.training.devices) took that device as assigned to it
    work = runs.cluster.workdir
    stats = json.loads((work / "models/tiny/deepbind/none/1/train_stats.json").read_text())
    assert stats["gpu_slot"] in {"0", "1"}, stats
    assert stats["device"] == "cpu"  # a fake GPU: PyTorch finds no CUDA device and trains on the CPU
    log = (work / "logs/train/tiny/deepbind/none/1.log").read_text()
    assert f"GPU {stats['gpu_slot']} assigned by the environment (CUDA_VISIBLE_DEVICES)" in log


@pytest.mark.e2e
def test_benchmark_equals_the_local_run(runs: Runs) -> None:
    keys = ["dataset", "model", "balance", "seed", "task"]
    cluster = pd.read_csv(runs.cluster.workdir / "results/benchmark.tsv", sep="\t").sort_values(keys)
    local = pd.read_csv(runs.local.workdir / "results/benchmark.tsv", sep="\t").sort_values(keys)
    assert len(cluster) == 2 * 2  # two models x two tasks
    pd.testing.assert_frame_equal(cluster.reset_index(drop=True), local.reset_index(drop=True), check_exact=True)
    for path in ("results/summary.tsv", "results/benchmark.md", "results/plots/tiny/training.png"):
        assert (runs.cluster.workdir / path).is_file(), path


@pytest.mark.e2e
def test_a_two_task_training_job_starts_srun_torchrun(slurm: Slurm, tmp_path: Path) -> None:
    """train.nodes: 2 makes the training job ask SLURM for 2 tasks on 2 nodes (overridden
    to 1 node here: the test SLURM has one) and run in the allocation's batch step, where
    `srun` starts one torchrun per task; the two meet at a c10d rendezvous and train 2 ranks."""
    config = tiny_config(tmp_path / "tiny.yaml", "cpu")
    cfg = yaml.safe_load(config.read_text())
    cfg["models"] = ["deepbind"]
    cfg["train"] |= {"processes": 1, "nodes": 2, "max_epochs": 2}
    config.write_text(yaml.safe_dump(cfg))
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SNAKEMAKE_PROFILE")}
    target = "models/tiny/deepbind/none/1/train_stats.json"
    one_node = ["--set-resources", "train_network:nodes=1", "--set-threads", "train_network=1"]
    args = [target, "--profile", str(SLURM_PROFILE), "--configfile", str(config), *SLURM_TEST_ARGS, *one_node]
    run = run_snakemake(tmp_path, args, env, SLURM_TIMEOUT_S)
    assert run.returncode == 0, failed_job_logs(run)
    training = [job_id for job_id, job in slurm_jobs(run).items() if job["rule"] == "train_network"]
    assert len(training) == 1
    shown = subprocess.run(["scontrol", "show", "job", training[0]], capture_output=True, text=True, timeout=30).stdout
    assert re.search(r"\bNumTasks=2\b", shown) and re.search(r"\bJobState=COMPLETED\b", shown), shown
    stats = json.loads((tmp_path / target).read_text())
    assert stats["ranks"] == 2 and stats["nodes"] == 2 and stats["processes_per_node"] == 1
    log = (tmp_path / "logs/train/tiny/deepbind/none/1.log").read_text()
    assert "srun --ntasks=2" in log and "--nnodes=2" in log and "--rdzv-backend=c10d" in log
    assert "rank 0 of 2" in log and "rank 1 of 2" in log
