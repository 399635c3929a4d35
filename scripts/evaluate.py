"""Snakemake entry of rule evaluate: predictions and test metrics of one run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.evaluate import evaluate_run

run_step(
    snakemake,
    lambda: evaluate_run(
        snakemake.input.store,
        snakemake.input.model,
        snakemake.params.family,
        dict(snakemake.wildcards.items()),
        snakemake.params.evaluate,
        snakemake.output.predictions,
        snakemake.output.metrics,
    ),
)
