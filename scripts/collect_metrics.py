"""Snakemake entry of rule collect_metrics: every run's metrics in one table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.benchmark import collect, write_table

run_step(snakemake, lambda: write_table(collect(snakemake.input), snakemake.output.table))
