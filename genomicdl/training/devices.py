"""GPU slots: which GPU a training job uses on a shared machine.

Snakemake's ``--resources gpu=N`` bounds how many GPU jobs run at once but never says
which GPU each should use (snakemake issue #281). Before CUDA initialises, a job takes
a non-blocking ``flock`` on one file per device in a node-local lock directory and sets
``CUDA_VISIBLE_DEVICES`` to the device it holds. The kernel drops the lock when the
process dies, however it dies. A ``CUDA_VISIBLE_DEVICES`` naming a single device (as
SLURM sets it for ``--gpus=1``) is honoured as it is.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

LOCK_DIR_ENV = "GENOMICDL_GPU_LOCK_DIR"


@dataclass
class Slot:
    """A held device: its id as CUDA sees it and the open lock file (None when assigned
    by a scheduler)."""

    device: str
    handle: IO[bytes] | None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def default_lock_dir() -> Path:
    """Node-local directory of the lock files (GENOMICDL_GPU_LOCK_DIR overrides it)."""
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / f"genomicdl-gpu-locks-{os.getuid()}")


def lock_path(lock_dir: str | Path, device: str) -> Path:
    """The lock file of a device (index, GPU-/MIG- UUID; other characters made safe)."""
    return Path(lock_dir) / f"gpu{re.sub(r'[^A-Za-z0-9_.-]', '_', device)}.lock"


def visible_devices() -> list[str]:
    """Devices this process may use: CUDA_VISIBLE_DEVICES, else the driver's device nodes."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    nodes = [p for p in glob.glob("/dev/nvidia*") if re.fullmatch(r"/dev/nvidia\d+", p)]
    return sorted((p.removeprefix("/dev/nvidia") for p in nodes), key=int)


def has_gpu() -> bool:
    """Cheap check (no CUDA initialisation) for a usable NVIDIA GPU."""
    return bool(visible_devices())


def acquire(
    devices: list[str] | None = None, lock_dir: str | Path | None = None, wait_s: float = 3600.0, poll_s: float = 2.0
) -> Slot:
    """Hold one free device of ``devices`` (default: the visible ones), waiting up to
    ``wait_s`` for one to be freed. Sets CUDA_VISIBLE_DEVICES to it."""
    devices = visible_devices() if devices is None else devices
    if not devices:
        raise RuntimeError("no GPU is visible (CUDA_VISIBLE_DEVICES is empty and no /dev/nvidiaN exists)")
    if len(devices) == 1 and "CUDA_VISIBLE_DEVICES" in os.environ and devices == visible_devices():
        log.info("GPU %s assigned by the environment (CUDA_VISIBLE_DEVICES): using it", devices[0])
        return Slot(devices[0], None)
    lock_dir = Path(lock_dir) if lock_dir else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        for device in devices:
            path = lock_path(lock_dir, device)
            handle = open(path, "ab")  # noqa: SIM115 (held while the job runs)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            os.environ["CUDA_VISIBLE_DEVICES"] = device
            log.info("GPU slot: holding device %s (lock %s)", device, path)
            return Slot(device, handle)
        if time.monotonic() > deadline:
            raise RuntimeError(f"all GPUs {devices} stayed busy for {wait_s:.0f} s (locks in {lock_dir})")
        if not announced:
            log.info("all GPUs %s are held by other jobs: waiting", devices)
            announced = True
        time.sleep(poll_s)
