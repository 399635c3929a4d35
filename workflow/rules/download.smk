# With download_variants (variants.smk) and download_predict_regions (predict.smk), the only rules that touch the network. Runs on the submit host (localrules).


localrules:
    download,


rule download:
    output:
        "resources/{dataset}/{file}",
    log:
        "logs/download/{dataset}/{file}.log",
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,  # streamed to disk in 1 MB blocks whatever the file's size
        runtime=120,
    params:
        source=lambda w: resource_lookup(w.dataset, w.file),
    script:
        "../../scripts/download.py"
