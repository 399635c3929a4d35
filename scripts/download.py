"""Snakemake entry of rule download: fetch one input, verify its checksum."""

from _entry import run_step  # first: this checkout on sys.path
from genomicdl.io.download import fetch

source = snakemake.params.source
run_step(snakemake, lambda: fetch(source["url"], snakemake.output[0], source["sha256"]))
