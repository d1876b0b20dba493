# Every data set is written once under resources/datasets/ in the course's npz
# layout, validated on the way (homework1.data.write_npz), by its own module of
# homework1.sources.


rule dataset:
    input:
        local=dataset_local_inputs,
        code=dataset_code,
    output:
        "resources/datasets/{dataset}.npz",
    params:
        options=dataset_options,
    log:
        "logs/datasets/{dataset}.log",
    benchmark:
        "benchmarks/datasets/{dataset}.tsv"
    resources:
        **attempt_resources(runtime=60, mem_mb=4000),
    conda:
        ENV
    script:
        "../../scripts/prepare_dataset.py"
