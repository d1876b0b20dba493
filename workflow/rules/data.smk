# Every data set is written once under resources/datasets/ in the course's npz
# layout, validated on the way (homework1.core.data.write_npz), by its own module of
# homework1.sources.
#
# Each source (the data set's config block) is built to a file of its own under
# builds/, then copied to resources/datasets/{dataset}.npz, the file the runs
# read. Snakemake deletes a job's output before the job runs; a source that fails
# therefore costs only its own build, never the data set the runs were trained on,
# and switching back to the earlier source finds everything up to date.
#
# The copy is a checkpoint: the runs are planned again once it has run, so a data set
# installed again with the same content (deleted, or rebuilt from the same source)
# retrains nothing (common.smk: installed_dataset).


localrules:
    install_dataset,


rule dataset:
    input:
        local=dataset_local_inputs,
        code=dataset_code,
    output:
        "resources/datasets/builds/{dataset}/{source}.npz",
    params:
        source=lambda wildcards: dataset_source(wildcards.dataset),
        options=dataset_options,
    log:
        "logs/datasets/{dataset}/{source}.log",
    benchmark:
        "benchmarks/datasets/{dataset}/{source}.tsv"
    resources:
        **attempt_resources(runtime=60, mem_mb=4000),
    conda:
        ENV
    script:
        "../../scripts/prepare_dataset.py"


checkpoint install_dataset:
    input:
        lambda w: source_file(rules.dataset.output[0], w.dataset),
    output:
        "resources/datasets/{dataset}.npz",
    log:
        "logs/datasets/{dataset}.install.log",
    conda:
        ENV
    shell:
        "cp {input:q} {output:q} 2> {log:q}"
