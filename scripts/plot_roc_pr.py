"""Snakemake entry of rule plot_roc_pr: ROC and PR curves of one dataset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.plots import labels_for, roc_pr

run_step(
    snakemake,
    lambda: roc_pr(
        snakemake.wildcards.dataset,
        dict(zip(labels_for(snakemake.params.runs), snakemake.input)),
        snakemake.output[0],
    ),
)
