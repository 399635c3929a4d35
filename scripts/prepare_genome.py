"""Snakemake entry of rule prepare_genome: index the genome and write its code cache in one pass."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.io.genome import prepare_genome

run_step(snakemake, lambda: prepare_genome(snakemake.input[0], snakemake.output.fasta, threads=snakemake.threads))
