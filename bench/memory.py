"""What the benchmarks share: the peak memory of the process they run in."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """This process's peak RSS in MB (VmHWM; ru_maxrss would carry the parent's over exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
