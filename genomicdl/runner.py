"""Running a step from a Snakemake script: log to the rule's log file, report errors.

Everything the step prints (Python logging, tqdm, warnings, C libraries) goes to the
log; a user-facing error is also printed on the console in one line, without traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from genomicdl.errors import GenomicdlError


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
    log = logging.getLogger("genomicdl")
    log.info("rule %s, wildcards %s", smk.rule, dict(smk.wildcards.items()))
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
        sys.stdout.flush()
        sys.stderr.flush()
