# Test-split predictions and metrics of each trained model.


rule evaluate:
    input:
        store=paths.STORE,
        model=model_file,
    output:
        predictions=paths.PREDICTIONS,
        metrics=paths.METRICS,
        arrays=paths.ARRAYS,
    log:
        "logs/evaluate/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/evaluate/{dataset}/{model}/{balance}/{seed}.tsv"
    wildcard_constraints:
        model="|".join(m for m in CATALOG if CATALOG[m].family in ("torch", "sklearn")),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=lambda w: 1 if USE_GPU and CATALOG[w.model].family == "torch" else 0,
        mem_mb=lambda w, input: mb(input.size_mb, 1.5, 2000),
        runtime=lambda w, input: int(max(15, input.size_mb / 5)),
    params:
        family=lambda w: CATALOG[w.model].family,
        evaluate=config["evaluate"],
        device="cpu" if config["train"]["device"] == "cpu" else "auto",
    script:
        "../../scripts/evaluate.py"
