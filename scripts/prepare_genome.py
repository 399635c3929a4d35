"""Snakemake entry of rule prepare_genome: index the genome and write its code cache in one pass."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.io.genome import prepare_genome

run_step(snakemake, lambda: prepare_genome(snakemake.input[0], snakemake.output.fasta, threads=snakemake.threads))
