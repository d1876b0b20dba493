"""The report's numbers beside ours, and its comparisons against seed noise (rule `reproduction_tables`)."""

import pandas as pd

from homework1.plan import claims
from homework1.analysis import comparisons, reproduction
from homework1.job.joblog import job_log
from homework1.analysis.tables import write_table

with job_log(snakemake.log[0]) as log:
    table = reproduction.reproduction_table(
        pd.read_csv(snakemake.input.by_config), reproduction.read_report_numbers(snakemake.input.report_numbers),
        snakemake.params.dataset, weight_norms=reproduction.final_weight_norms(snakemake.input.metrics))
    write_table(table, snakemake.output.reproduction, snakemake.output.reproduction_md, reproduction.SHOWN)
    if snakemake.input.settled:  # settle on: the claims as the last look left them
        checked = pd.read_csv(snakemake.input.settled[0]).fillna({"note": ""})  # an empty note reads back as NaN
        shown = comparisons.SHOWN_SETTLED
    else:
        checked = comparisons.seed_comparisons(pd.read_csv(snakemake.input.summary),
                                               claims.read_claims(snakemake.input.report_comparisons))
        shown = comparisons.SHOWN
    write_table(checked, snakemake.output.comparisons, snakemake.output.comparisons_md, shown)
    log(f"{len(table)} report numbers: {table['verdict'].value_counts().to_dict()}")
