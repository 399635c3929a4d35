"""Snakemake entry of rules predict_chrom, predict_tracks and predict_contributions."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.io.genome import Genome
from genomicdl.evaluation.predict import contributions, merge_tracks, predict_chromosome, region_centres


def _merge():
    with Genome(snakemake.input.genome) as genome:
        sizes = dict(genome.sizes)
    return merge_tracks(list(snakemake.input.chroms), sizes, snakemake.output[0])


def _chrom():
    return predict_chromosome(
        snakemake.input.model, snakemake.input.genome, snakemake.wildcards.chrom, snakemake.output[0],
        stride=snakemake.params.stride, batch_size=snakemake.params.batch_size,
    )


def _contributions():
    regions = region_centres(snakemake.input.regions, snakemake.input.genome, snakemake.params.aliases)
    return contributions(
        snakemake.input.model, snakemake.input.genome, regions, snakemake.output[0],
        method=snakemake.params.method, shuffles=snakemake.params.shuffles,
    )


step = snakemake.params.get("step", "chrom")
run_step(snakemake, {"merge": _merge, "contributions": _contributions, "chrom": _chrom}[step])
