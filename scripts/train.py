"""Snakemake entry of rule train_network: train one neural network."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.train import train_network

run_step(
    snakemake,
    lambda: train_network(
        snakemake.input.store,
        snakemake.input.index,
        snakemake.wildcards.model,
        snakemake.params.params,
        snakemake.params.train,
        int(snakemake.wildcards.seed),
        snakemake.threads,
        snakemake.params.double_stranded,
        snakemake.output.model,
        snakemake.output.history,
        snakemake.output.stats,
    ),
)
