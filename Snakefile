"""genomicdl: genome + labelled regions (or labelled sequences) -> trained, compared models.

snakemake --cores 2                          # the embedded default (config/config.yaml)
snakemake --cores 8 --configfile my.yaml     # your datasets only
snakemake --report results/report.html       # the HTML report
"""

from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/rebalance.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/benchmark.smk"
include: "workflow/rules/interpret.smk"
include: "workflow/rules/variants.smk"


rule all:
    default_target: True
    input:
        final_targets(),
