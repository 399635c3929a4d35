"""Snakemake entry of rule score_variants: effect scores of a VCF's variants under one model."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent))

from genomicdl.core.runner import run_step
from genomicdl.interpret.variants import score_variants

run_step(
    snakemake,
    lambda: score_variants(
        snakemake.input.vcf,
        snakemake.input.genome,
        snakemake.input.model,
        snakemake.params.family,
        snakemake.params.settings,
        snakemake.output.vcf,
        snakemake.output.tsv,
        snakemake.output.summary,
        aliases=snakemake.params.aliases,
        source=snakemake.params.source,
        run=dict(snakemake.wildcards.items()),
        threads=snakemake.threads,
    ),
)
