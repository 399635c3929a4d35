# Protein models: attention of DeepLoc-style networks along a few test proteins.
# Outputs in results/{dataset}/{model}/{balance}/{seed}/attention.{png,tsv.gz}.

ATTENTION_RUNS = [(d, m, b, s) for d, m, b, s in runs() if m == "deeploc"]


register_targets(
    lambda: [
        paths.run_path(f"{paths.RUN_DIR}/attention.png", (d, m, b, s))
        for d, m, b, s in ATTENTION_RUNS
    ]
)


rule attention:
    input:
        store=paths.STORE,
        model=paths.MODEL,
    output:
        png=report(
            f"{paths.RUN_DIR}/attention.png",
            caption="../report/attention.rst",
            category="{dataset}",
            subcategory="interpretation",
            labels={
                "model": "{model}",
                "balance": "{balance}",
                "seed": "{seed}",
                "figure": "attention",
            },
        ),
        tsv=f"{paths.RUN_DIR}/attention.tsv.gz",
    log:
        "logs/attention/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/attention/{dataset}/{model}/{balance}/{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/attention.py"
