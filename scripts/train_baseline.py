"""Snakemake entry of rule train_baseline: fit one classical baseline."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.training.baselines import train_baseline

run_step(
    snakemake,
    lambda: train_baseline(
        store=snakemake.input.store,
        index=snakemake.input.index,
        model=snakemake.wildcards.model,
        params=snakemake.params.params,
        train=snakemake.params.train,
        seed=int(snakemake.wildcards.seed),
        double_stranded=snakemake.params.double_stranded,
        out_model=snakemake.output.model,
        out_stats=snakemake.output.stats,
    ),
)
