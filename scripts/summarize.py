"""Snakemake entry of rule summarize: statistics over seeds, comparisons, published, Markdown."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.benchmark import run_summary

run_step(
    snakemake,
    lambda: run_summary(
        snakemake.input.table,
        snakemake.params.runs,
        snakemake.input.predictions,
        snakemake.params.published,
        snakemake.params.bootstrap,
        snakemake.output.summary,
        snakemake.output.comparisons,
        snakemake.output.published,
        snakemake.output.markdown,
    ),
)
