"""Wall time, peak memory and CPU time of every Snakemake job, from its benchmark file."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from homework1.plan.study import RUN_FIELDS, run_identity


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


def runtime_table(benchmark_paths) -> pd.DataFrame:
    """One row per Snakemake job: its wall time, peak memory and CPU time.

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
    return table.sort_values("job", ignore_index=True)
