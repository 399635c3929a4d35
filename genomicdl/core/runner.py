"""Running a step from a Snakemake script: log to the rule's log file, report errors.

Everything the step prints (Python logging, tqdm, warnings, C libraries) goes to the
log; a user-facing error is also printed on the console in one line, without traceback,
and so is any log record made with ``extra=CONSOLE`` (things the user must act on).
The step's native thread pools (BLAS, OpenMP, PyTorch) are bounded by the rule's threads.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from genomicdl.core.errors import GenomicdlError

CONSOLE = {"console": True}  # extra= of a log record that the console shows as well


class _ConsoleFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return bool(getattr(record, "console", False))


def limit_threads(threads: int) -> Any:
    """Bound BLAS/OpenMP pools (threadpoolctl) and PyTorch's to ``threads``; returns the
    threadpoolctl limiter (keep it alive while the step runs)."""
    from threadpoolctl import threadpool_limits

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # pools started later
        os.environ[var] = str(max(1, threads))
    limiter = threadpool_limits(limits=max(1, threads))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(max(1, threads))
    return limiter


def run_step(smk: Any, step: Callable[[], Any]) -> None:
    """Run ``step()`` for the Snakemake object ``smk`` with logging set up."""
    log_path = smk.log[0] if len(smk.log) else None
    console = os.fdopen(os.dup(2), "w", buffering=1)
    if log_path:
        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, force=True, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.captureWarnings(True)
    echo = logging.StreamHandler(console)
    echo.addFilter(_ConsoleFilter())
    echo.setFormatter(logging.Formatter(f"genomicdl ({smk.rule}): %(message)s"))
    logging.getLogger().addHandler(echo)
    log = logging.getLogger("genomicdl")
    log.info("rule %s, wildcards %s", smk.rule, dict(smk.wildcards.items()))
    limiter = limit_threads(int(getattr(smk, "threads", 1) or 1))
    try:
        step()
    except GenomicdlError as err:
        log.error("%s", err)
        console.write(f"genomicdl: error in rule {smk.rule}: {err}\n")
        sys.exit(1)
    except Exception:
        log.exception("rule %s failed", smk.rule)
        console.write(f"genomicdl: rule {smk.rule} failed; see {log_path}\n")
        raise SystemExit(1) from None
    finally:
        limiter.unregister()
        sys.stdout.flush()
        sys.stderr.flush()
