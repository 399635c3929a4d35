# Training index and loss weights for each class-rebalancing strategy.


rule rebalance:
    input:
        store=paths.STORE,
    output:
        index=paths.INDEX,
        counts=paths.COUNTS,
    log:
        "logs/rebalance/{dataset}/{balance}/{seed}.log",
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 0.2, 1000),
        runtime=10,
    params:
        ratio=config["rebalance"]["ratio"],
    script:
        "../../scripts/rebalance.py"
