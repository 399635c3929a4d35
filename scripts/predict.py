"""Snakemake entry of rules predict_chrom and predict_tracks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.genome import Genome
from genomicdl.predict import merge_tracks, predict_chromosome
from genomicdl.runner import run_step


def _merge():
    with Genome(snakemake.input.genome) as genome:
        sizes = dict(genome.sizes)
    return merge_tracks(list(snakemake.input.chroms), sizes, snakemake.output[0])


def _chrom():
    return predict_chromosome(
        snakemake.input.model, snakemake.input.genome, snakemake.wildcards.chrom, snakemake.output[0],
        stride=snakemake.params.stride, batch_size=snakemake.params.batch_size,
    )


run_step(snakemake, _merge if snakemake.params.get("merge") else _chrom)
