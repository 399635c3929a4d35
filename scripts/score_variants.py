"""Snakemake entry of rule score_variants: effect scores of a VCF's variants under one model."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.interpret.variants import score_variants

run_step(
    snakemake,
    lambda: score_variants(
        snakemake.input.vcf, snakemake.input.genome, snakemake.input.model, snakemake.params.family,
        snakemake.params.settings, snakemake.output.vcf, snakemake.output.tsv, snakemake.output.summary,
        aliases=snakemake.params.aliases, source=snakemake.params.source, run=dict(snakemake.wildcards.items()),
        threads=snakemake.threads,
    ),
)
