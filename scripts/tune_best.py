"""Snakemake entry of rule tune_best: the study's best trial (by validation) to best.yaml."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.training.tune import write_best

run_step(
    snakemake,
    lambda: write_best(
        trials=list(snakemake.input.trials),
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        out=snakemake.output.best,
    ),
)
