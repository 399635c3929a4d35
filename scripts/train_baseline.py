"""Snakemake entry of rule train_baseline: fit one classical baseline."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.train import train_baseline

run_step(
    snakemake,
    lambda: train_baseline(
        snakemake.input.store,
        snakemake.input.index,
        snakemake.wildcards.model,
        snakemake.params.params,
        snakemake.params.train,
        int(snakemake.wildcards.seed),
        snakemake.params.double_stranded,
        snakemake.output.model,
        snakemake.output.stats,
    ),
)
