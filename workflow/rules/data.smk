# Every data set is written once under resources/datasets/ in the course's npz
# layout, validated on the way (homework1.data.write_npz).


def dataset_options(wildcards):
    """The config block of a data set, with unset ("") sources left out."""
    return {key: value for key, value in config[wildcards.dataset].items() if value != ""}


def dataset_local_inputs(wildcards):
    """A user's own copy (npz or archive) is an input: replacing it rebuilds the data."""
    if wildcards.dataset != "intel_landscapes":
        return []
    options = dataset_options(wildcards)
    if "path" in options:
        return [options["path"]]
    if "url" not in options and "archive" in options:
        return [options["archive"]]
    return []


rule dataset:
    input:
        local=dataset_local_inputs,
        code=package_files("sources", "data", "jobs"),
    output:
        "resources/datasets/{dataset}.npz",
    params:
        options=dataset_options,
    log:
        "logs/datasets/{dataset}.log",
    benchmark:
        "benchmarks/datasets/{dataset}.tsv"
    script:
        "../../scripts/prepare_dataset.py"
