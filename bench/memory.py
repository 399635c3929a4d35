"""What the benchmarks share: peak memory, and child processes that die with their parent."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
from functools import partial
from typing import IO

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def peak_rss_mb() -> float:
    """This process's peak RSS in MB (VmHWM; ru_maxrss would carry the parent's over exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak RSS of the waited-for child processes (e.g. bedtools), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def die_with_parent(parent: int) -> None:
    """In a child between fork and exec: have the kernel send it SIGTERM when ``parent``
    dies (PR_SET_PDEATHSIG survives exec); exit at once if the parent is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def popen_bound(command: list[str], **kwargs: object) -> subprocess.Popen:
    """subprocess.Popen of a child that is killed when this process dies (a timeout, ^C,
    SIGKILL): a benchmark's children never go on loading the machine after it."""
    return subprocess.Popen(command, preexec_fn=partial(die_with_parent, os.getpid()), **kwargs)


def run_bound(command: list[str], *, stdout: int | IO[bytes] = subprocess.PIPE) -> subprocess.CompletedProcess:
    """subprocess.run(check=True) of a child bound to this process (stdout captured
    unless given a file, stderr captured)."""
    with popen_bound(command, stdout=stdout, stderr=subprocess.PIPE) as proc:
        out, err = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command, out, err)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def run_child(script: str, args: list[str]) -> dict:
    """Run ``script --child ARGS`` in a fresh interpreter bound to this process; the
    child's last stdout line is one JSON object, returned."""
    out = run_bound([sys.executable, script, "--child", *args])
    return json.loads(out.stdout.decode().strip().splitlines()[-1])
