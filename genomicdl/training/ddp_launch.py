"""Starting data-parallel training: the training job's resources, and ``torchrun``.

Imports no PyTorch (the Snakefile reads :func:`rule_resources`). The ranks themselves
run :mod:`genomicdl.training.distributed`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genomicdl.core.errors import GenomicdlError
from genomicdl.core.files import write_text_atomic
from genomicdl.training import devices

log = logging.getLogger(__name__)

CLUSTER_GPUS_ENV = "GENOMICDL_TRAIN_GPUS"
SPEC_NAME = ".ddp-spec.json"  # the workers' arguments, beside the model (a shared file system)


def ranks(train: Mapping[str, Any]) -> int:
    """Processes that train one model: ``train.processes`` x ``train.nodes``."""
    return int(train.get("processes", 1)) * int(train.get("nodes", 1))


def rule_resources(train: Mapping[str, Any], use_gpu: bool) -> dict[str, Any]:
    """Scheduler resources of a training job beyond threads and memory.

    One GPU per process on each node (``gpu``, counted by the workstation profile and
    the SLURM plugin's ``--gpus``). Several nodes: one task per node (``tasks``, ``nodes``)
    and ``mpi``, which makes the SLURM plugin run the job in the allocation's batch step
    so that the job can start its own ``srun torchrun``."""
    processes, nodes = int(train.get("processes", 1)), int(train.get("nodes", 1))
    res: dict[str, Any] = {"gpu": processes if use_gpu else 0}
    if nodes > 1:
        res |= {"nodes": nodes, "tasks": nodes, "mpi": "srun", "tasks_per_gpu": 0}
    return res


def cluster_gpus(train: Mapping[str, Any]) -> int:
    """GPUs a training job asks a cluster for (the SLURM profile's ``gpu``): one per rank,
    none with ``device: cpu`` (``auto`` counts on GPUs: the login node has none to see)."""
    return 0 if train["device"] == "cpu" else ranks(train)


def export_cluster_gpus(train: Mapping[str, Any]) -> None:
    """Set ``$GENOMICDL_TRAIN_GPUS``, which profiles/slurm reads for the training jobs'
    ``gpu`` (a profile's expressions see environment variables, not the config)."""
    os.environ[CLUSTER_GPUS_ENV] = str(cluster_gpus(train))


# ------------------------------------------------------------------ the launcher


def torchrun() -> list[str]:
    """The ``torchrun`` of this Python (its console script, else ``python -m``)."""
    script = Path(sys.executable).with_name("torchrun")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "torch.distributed.run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def launch_command(spec: str | Path, processes: int, nodes: int) -> list[str]:
    """``torchrun`` on one node; ``srun torchrun`` with a c10d rendezvous on this host
    (the allocation's first node, where the batch step runs) for several."""
    worker = ["--max-restarts=0", "-m", "genomicdl.training.distributed", str(spec)]
    if nodes == 1:
        return [*torchrun(), "--standalone", "--nnodes=1", f"--nproc-per-node={processes}", *worker]
    job = os.environ.get("SLURM_JOB_ID")
    if not job or not shutil.which("srun"):
        raise GenomicdlError(
            f"train.nodes is {nodes}: training on several nodes runs inside a SLURM allocation "
            "(snakemake --profile profiles/slurm); set train.nodes: 1 to train on this machine"
        )
    rdzv = [f"--rdzv-endpoint={socket.gethostname()}:{free_port()}", "--rdzv-backend=c10d", f"--rdzv-id={job}"]
    launcher = ["srun", f"--ntasks={nodes}", "--kill-on-bad-exit=1"]
    return [*launcher, *torchrun(), f"--nnodes={nodes}", f"--nproc-per-node={processes}", *rdzv, *worker]


def worker_env(threads: int) -> dict[str, str]:
    """The environment of the ranks: this genomicdl importable, thread pools bounded."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder holding genomicdl/
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    return env


def launch(*, threads: int, **kwargs: Any) -> dict[str, Any]:
    """Train with ``train.processes`` x ``train.nodes`` ranks (keyword arguments of
    :func:`genomicdl.training.engine.train_network`; ``threads`` is the job's, per node, shared by
    its processes). Returns the run's statistics."""
    train = kwargs["train"]
    processes, nodes = int(train.get("processes", 1)), int(train.get("nodes", 1))
    per_process = max(1, threads // processes)
    spec = Path(kwargs["out_model"]).with_name(SPEC_NAME)
    spec.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(spec, json.dumps({**kwargs, "threads": per_process}, default=str))
    env = worker_env(per_process)
    slots = gpu_slots(train, processes, env)
    cmd = launch_command(spec, processes, nodes)
    log.info("%d ranks (%d per node x %d nodes), %d threads each: %s", processes * nodes, processes, nodes,
             per_process, " ".join(cmd))  # fmt: skip
    try:
        code = subprocess.run(cmd, env=env).returncode
    finally:
        for slot in slots:
            slot.release()
        spec.unlink(missing_ok=True)
    if code != 0:
        raise GenomicdlError(
            f"distributed training of {kwargs['out_model']} failed: torchrun exited with {code} "
            "(the ranks' messages are in this log; a rerun resumes from the last checkpoint)"
        )
    return json.loads(Path(kwargs["out_stats"]).read_text())


def gpu_slots(train: Mapping[str, Any], processes: int, env: dict[str, str]) -> list[devices.Slot]:
    """On a workstation, hold ``processes`` GPUs (genomicdl.training.devices) and show the ranks
    only those; SLURM's allocation is used as it is."""
    if train["device"] == "cpu" or not devices.has_gpu() or "SLURM_JOB_ID" in os.environ:
        return []
    visible = devices.visible_devices()
    if len(visible) < processes:
        raise GenomicdlError(f"train.processes is {processes} but this machine shows {len(visible)} GPU(s)")
    slots: list[devices.Slot] = []
    for _ in range(processes):
        slots.append(devices.acquire([d for d in visible if d not in {s.device for s in slots}]))
    env["CUDA_VISIBLE_DEVICES"] = ",".join(s.device for s in slots)
    return slots
