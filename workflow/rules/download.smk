# The only rule that touches the network. Runs on the submit host (localrules).


localrules:
    download,


rule download:
    output:
        "resources/{dataset}/{file}",
    log:
        "logs/download/{dataset}/{file}.log",
    conda:
        "../../envs/data.yaml"
    params:
        source=lambda w: resource_lookup(w.dataset, w.file),
    script:
        "../../scripts/download.py"
