"""Snakemake entry of rule attention: attention plot and table of one DeepLoc-style network."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.plots.protein import attention_run

run_step(
    snakemake,
    lambda: attention_run(
        snakemake.input.store, snakemake.input.model, snakemake.output.png, snakemake.output.tsv
    ),
)
