"""Snakemake entry of rule rebalance: training index and weights of one strategy."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.training.rebalance import rebalance

run_step(
    snakemake,
    lambda: rebalance(
        snakemake.input.store,
        snakemake.wildcards.balance,
        int(snakemake.wildcards.seed),
        snakemake.params.ratio,
        snakemake.output.index,
        snakemake.output.counts,
    ),
)
