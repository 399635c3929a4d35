"""Resume a run after a crash or ``kill -9`` in one command.

``python -m genomicdl.core.resume [snakemake arguments]``: a killed Snakemake leaves its lock in
``.snakemake/locks`` and the next run refuses to start ("Directory cannot be locked").
This removes the lock with ``snakemake --unlock`` only when no Snakemake (nor a job of
one) still runs in the working directory, then runs ``snakemake --rerun-incomplete`` with
the same arguments, so the jobs the kill interrupted run again from scratch.
Linux (/proc) decides what runs; elsewhere the lock is left alone when in doubt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _workdir(args: Sequence[str], cwd: Path) -> Path:
    """The working directory a snakemake command line uses (--directory/-d, else cwd)."""
    for i, arg in enumerate(args):
        if arg in ("--directory", "-d") and i + 1 < len(args):
            return (cwd / args[i + 1]).resolve()
        if arg.startswith("--directory="):
            return (cwd / arg.split("=", 1)[1]).resolve()
    return cwd.resolve()


def _processes() -> Iterator[tuple[int, list[str], Path]]:
    """(pid, argv, cwd) of every process this user may inspect."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        yield int(entry.name), argv, cwd


def _is_snakemake(argv: Sequence[str]) -> bool:
    """A Snakemake process, or a job script Snakemake started."""
    return any(Path(a).name == "snakemake" or "/.snakemake/scripts/" in a for a in argv)


def live_snakemake(workdir: str | Path) -> list[int]:
    """Pids of Snakemake processes (and their job scripts) working in ``workdir``."""
    workdir = Path(workdir).resolve()
    own = {os.getpid(), os.getppid()}
    return [
        pid
        for pid, argv, cwd in _processes()
        if pid not in own and _is_snakemake(argv) and _workdir(argv[1:], cwd) == workdir
    ]


def resume(args: Sequence[str], *, cwd: Path | None = None) -> int:
    """Unlock when safe, then rerun; return snakemake's exit status."""
    workdir = _workdir(args, cwd or Path.cwd())
    if not Path("/proc/self").exists():
        print(
            "genomicdl.core.resume: cannot tell what runs without /proc; run snakemake --unlock yourself",
            file=sys.stderr,
        )
        return 2
    running = live_snakemake(workdir)
    if running:
        print(
            f"genomicdl.core.resume: Snakemake still runs in {workdir} (pids {running}): wait for it or stop it; "
            "the lock is left alone",
            file=sys.stderr,
        )
        return 1
    locks = workdir / ".snakemake" / "locks"
    if locks.is_dir() and any(locks.iterdir()):
        print(f"genomicdl.core.resume: removing the lock a killed run left in {workdir}", file=sys.stderr)
        unlock = subprocess.run([*SNAKEMAKE, *args, "--unlock"], check=False)
        if unlock.returncode != 0:
            return unlock.returncode
    return subprocess.run([*SNAKEMAKE, *args, "--rerun-incomplete"], check=False).returncode


if __name__ == "__main__":
    sys.exit(resume(sys.argv[1:]))
