# What a change did. `snakemake snapshot` copies the runs of the build as they are
# into results/snapshots/<name>/ (it trains nothing); with `baseline` set, the study
# compares itself with that snapshot, run by run and paired by seed
# (homework1.analysis.changes), and draws each configuration that changed.
# Seconds of work each: on a cluster they run on the submitting host, not as jobs.


localrules:
    snapshot,
    compare_to_baseline,
    changes_figures,


rule snapshot:
    input:
        code=code_of("take_snapshot.py"),
        # nothing: stops before any job while another Snakemake writes runs of this study
        nothing=lambda w: LEFTOVERS.runs_not_being_written(built_run_files()),
    output:
        directory(f"{SNAPSHOTS}/{SNAPSHOT_NAME}"),
    params:
        name=SNAPSHOT_NAME,
        runs=lambda w: study_runs(),
        runs_dir=RUNS_DIR,
        # no input but the code, so that taking a snapshot never trains: the files are read as they
        # are, and taken again only when one of them was rewritten since
        fingerprint=lambda w: snapshots.files_fingerprint(built_run_files()),
        checkout=CHECKOUT,
    log:
        f"logs/snapshots/{SNAPSHOT_NAME}.log",
    conda:
        ENV
    script:
        "../../scripts/take_snapshot.py"


rule compare_to_baseline:
    input:
        before=lambda w: BASELINE_FILES,
        after=built_run_files,
        code=code_of("compare_to_baseline.py"),
    output:
        runs=report(
            "results/tables/changes.csv",
            caption="../report/changes.rst",
            category="changes",
            labels={"table": "every run before and after"},
        ),
        runs_md="results/tables/changes.md",
        configs=report(
            "results/tables/changes_by_config.csv",
            caption="../report/changes.rst",
            category="changes",
            labels={"table": "per configuration: paired difference and verdict"},
        ),
        configs_md="results/tables/changes_by_config.md",
    params:
        baseline=lambda w: str(BASELINE),
        before_runs=lambda w: BASELINE_RUNS,
        after_runs=lambda w: study_runs(),
        runs_dir=RUNS_DIR,
    log:
        "logs/changes/compare_to_baseline.log",
    conda:
        ENV
    script:
        "../../scripts/compare_to_baseline.py"


rule changes_figures:
    input:
        configs=rules.compare_to_baseline.output.configs,
        before=lambda w: BASELINE_FILES,
        after=built_run_files,
        code=code_of("plot_changes.py"),
    output:
        report(
            directory(f"results/figures/{DATASET}/changes"),
            patterns=["{name}.png"],
            caption="../report/changes_figure.rst",
            category="changes",
            labels={"figure": "{name}"},
        ),
    params:
        baseline=lambda w: str(BASELINE),
        dataset=schema.dataset_descriptions(config)[DATASET],
    log:
        "logs/changes/changes_figures.log",
    conda:
        ENV
    script:
        "../../scripts/plot_changes.py"
