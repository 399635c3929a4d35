"""The one entry shim of the rule scripts: ``from _entry import run_step`` first.

Snakemake runs a rule's script with the script's folder on ``sys.path`` (after the
installed packages), so this module is found by name; importing it puts the repository
root first on ``sys.path``, so the scripts import this checkout's ``genomicdl`` even where
another copy is installed (an editable install of another worktree, a conda env), and
gives them the step runner (logging to the rule's log, errors reported in one line).
"""

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parent.parent)
if sys.path[:1] != [REPO]:
    sys.path.insert(0, REPO)

from genomicdl.core.runner import run_step

__all__ = ["REPO", "run_step"]
