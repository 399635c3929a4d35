# Every run's metrics in one table; curves per dataset.


rule benchmark:
    input:
        run_files("results/{dataset}/{model}/{balance}/{seed}/metrics.tsv"),
    output:
        table=report(
            "results/benchmark.tsv",
            caption="../report/benchmark.rst",
            category="benchmark",
        ),
    log:
        "logs/benchmark/benchmark.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/benchmark.py"


rule plot_roc_pr:
    input:
        lambda w: run_files(
            "results/{dataset}/{model}/{balance}/{seed}/predictions.tsv.gz", w.dataset
        ),
    output:
        report(
            "results/plots/{dataset}/roc_pr.png",
            caption="../report/roc_pr.rst",
            category="{dataset}",
            subcategory="evaluation",
        ),
    log:
        "logs/plot_roc_pr/{dataset}.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, input: mb(input.size_mb, 10, 1000),
        runtime=10,
    params:
        runs=lambda w: [(m, b, s) for _, m, b, s in runs(w.dataset)],
    script:
        "../../scripts/plot_roc_pr.py"
