"""Snakemake entry of rule prepare_genome: BGZF-compress and index the genome."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.runner import run_step
from genomicdl.genome import prepare_genome

run_step(snakemake, lambda: prepare_genome(snakemake.input[0], snakemake.output.fasta))
