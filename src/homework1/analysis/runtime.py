"""Wall time, peak memory and CPU time of every Snakemake job, from its benchmark file; for a training
job, beside them, its training loop's own times and how it shared the machine, from its run's summary."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from homework1.analysis.tables import CORE_COLUMNS, cores_shared
from homework1.plan.study import RUN_FIELDS, run_identity

# What a training job's summary adds (its columns there, renamed): the training loop's wall and CPU time,
# the compile of Question 1's kernels kept out of them.
FROM_SUMMARY = {"wall_time_s": "loop_wall_s", "cpu_time_s": "loop_cpu_s", "kernel_compile_s": "kernel_compile_s"}


def _job_name(path) -> str:
    """The benchmark path below benchmarks/, without .tsv: runs/digits/q1/mlp/default/seed42."""
    parts = Path(path).with_suffix("").parts
    if "benchmarks" in parts:
        last = len(parts) - 1 - parts[::-1].index("benchmarks")
        parts = parts[last + 1:]
    return "/".join(parts)


def _job_identity(job: str) -> dict:
    """dataset, question, experiment, variant, seed of a training job; empty for other jobs."""
    parts = job.split("/")
    identity = dict.fromkeys(RUN_FIELDS, "") | {"seed": pd.NA}
    if parts[0] == "runs":
        try:
            identity.update(run_identity(job))
        except ValueError:
            pass  # not a training job's benchmark after all: no identity
    elif parts[0] == "datasets" and len(parts) >= 2:
        identity["dataset"] = parts[1]
    return identity


def runtime_table(benchmark_paths, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per Snakemake job: its wall time, peak memory and CPU time; with ``summary``
    (tables.read_summaries), a training job's loop times and ``cores`` (tables.cores_shared).

    Reads Snakemake's benchmark TSVs (columns s, h:m:s, max_rss, ..., cpu_time;
    max_rss in MB; "NA" or "-" where unmeasured). A benchmark repeated several
    times gives the mean of its repeats.
    """
    rows = []
    for path in benchmark_paths:
        bench = pd.read_csv(path, sep="\t", na_values=["NA", "-"])

        def mean_of(column):
            if column not in bench.columns:
                return math.nan
            return pd.to_numeric(bench[column], errors="coerce").mean()

        job = _job_name(path)
        rows.append({"job": job, **_job_identity(job), "wall_s": mean_of("s"),
                     "max_rss_mb": mean_of("max_rss"), "cpu_time_s": mean_of("cpu_time")})
    columns = ["job", *RUN_FIELDS, "wall_s", "max_rss_mb", "cpu_time_s"]
    table = pd.DataFrame(rows, columns=columns)
    table["seed"] = table["seed"].astype("Int64")
    if summary is not None:
        runs = summary.reindex(columns=[*RUN_FIELDS, *FROM_SUMMARY, *CORE_COLUMNS]).astype({"seed": "Int64"})
        runs["cores"] = [cores_shared(runs.iloc[[i]]) for i in range(len(runs))]
        runs = runs.rename(columns=FROM_SUMMARY)[[*RUN_FIELDS, *FROM_SUMMARY.values(), "cores"]]
        table = table.merge(runs, on=list(RUN_FIELDS), how="left")
        table["cores"] = table["cores"].fillna("")
    return table.sort_values("job", ignore_index=True)


def sharing_note(table: pd.DataFrame) -> str:
    """One line on which times are the runs' own: where training jobs ran on shared cores, their wall
    times include waiting for a core and only CPU times compare between runs (empty where none did)."""
    shared = table[table.get("cores", pd.Series("", index=table.index)).str.startswith("shared")]
    if shared.empty:
        return ""
    return (f"{len(shared)} training jobs ran on shared cores ({shared['cores'].iloc[0]}): their wall times "
            f"(wall_s, loop_wall_s) include waiting for a core and are not the runs' own speed; their CPU times "
            f"(cpu_time_s, loop_cpu_s) are.\n")
