# Test-split predictions and metrics of each trained model.


rule evaluate:
    input:
        store="data/{dataset}/dataset.h5",
        model=model_file,
    output:
        predictions="results/{dataset}/{model}/{balance}/{seed}/predictions.tsv.gz",
        metrics="results/{dataset}/{model}/{balance}/{seed}/metrics.tsv",
    log:
        "logs/evaluate/{dataset}/{model}/{balance}/{seed}.log",
    benchmark:
        "benchmarks/evaluate/{dataset}/{model}/{balance}/{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 1.5, 2000),
        runtime=lambda w, input: int(max(15, input.size_mb / 5)),
    params:
        family=lambda w: CATALOG[w.model].family,
        evaluate=config["evaluate"],
    script:
        "../../scripts/evaluate.py"
