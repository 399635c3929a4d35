# Variant-effect scoring from VCF (per genome dataset with `variants`): every trained
# model scores every allele; outputs in results/{dataset}/{model}/{balance}/{seed}/variants/.

VARIANTS_DIR = paths.VARIANTS_DIR


# the local copy of each genome dataset's VCF: resources/<dataset>/variants.vcf[.gz]
VARIANTS_FILE = {
    d: f"resources/{d}/variants.vcf"
    + (
        ".gz"
        if sources.file_suffix(ds["variants"]["url"]).lower().endswith((".gz", ".bgz"))
        else ""
    )
    for d, ds in DATASETS.items()
    if is_genome_dataset(d) and ds["variants"]
}


register_targets(
    lambda: [
        paths.run_path(f"{paths.VARIANTS_DIR}/{name}", (d, m, b, s))
        for dataset in VARIANTS_FILE
        for d, m, b, s in runs(dataset)
        for name in ("scores.vcf.gz", "scores.tsv.gz", "summary.json")
    ]
)


localrules:
    download_variants,


ruleorder: download_variants > download


rule download_variants:
    output:
        "resources/{dataset}/variants.{ext}",
    log:
        "logs/download/{dataset}/variants.{ext}.log",
    wildcard_constraints:
        ext=r"vcf|vcf\.gz",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    params:
        source=lambda w: {
            "url": DATASETS[w.dataset]["variants"]["url"],
            "sha256": DATASETS[w.dataset]["variants"]["sha256"],
        },
    script:
        "../../scripts/download.py"


rule score_variants:
    input:
        vcf=lambda w: VARIANTS_FILE[w.dataset],
        genome=paths.GENOME,
        codes=f"{paths.GENOME}.codes",
        model=model_file,
    output:
        vcf=f"{VARIANTS_DIR}/scores.vcf.gz",
        tsv=report(
            f"{VARIANTS_DIR}/scores.tsv.gz",
            caption="../report/variants.rst",
            category="{dataset}",
            subcategory="variants",
            labels={"model": "{model}", "balance": "{balance}", "seed": "{seed}"},
        ),
        summary=f"{VARIANTS_DIR}/summary.json",
    log:
        "logs/score_variants/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/score_variants/{dataset}/{model}/{balance}/{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=2000,  # chunk_size variants at a time, whatever the VCF's size
        runtime=lambda w, input: int(max(60, input.size_mb / 10)),
    params:
        settings=lambda w: DATASETS[w.dataset]["variants"],
        aliases=lambda w: DATASETS[w.dataset]["chrom_aliases"],
        family=lambda w: CATALOG[w.model].family,
        source=lambda w: DATASETS[w.dataset]["variants"]["url"],
    script:
        "../../scripts/score_variants.py"
