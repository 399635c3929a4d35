"""genomicdl: the shared module behind the genomicdl Snakemake workflow."""

__version__ = "0.1.0"
