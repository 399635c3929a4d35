"""Snakemake entry of rule benchmark: gather every run's metrics."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.benchmark import collect, write_table

run_step(snakemake, lambda: write_table(collect(snakemake.input), snakemake.output.table))
