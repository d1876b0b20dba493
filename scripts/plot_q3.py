"""Question 3's figures from its tables (rule `q3_figures`): see homework1.present.q3_figures."""

import pandas as pd

from homework1.job.joblog import job_log
from homework1.present import q3_figures

with job_log(snakemake.log[0]) as log:
    q3_figures.gd_vs_closed_form(pd.read_csv(snakemake.input.gd_curve), snakemake.params.gd_dim,
                                 snakemake.output.figure_gd)
    q3_figures.error_vs_units(pd.read_csv(snakemake.input.k_sweep), snakemake.params.sweep_tolerance,
                                snakemake.output.figure_k)
    log(f"drew {snakemake.output.figure_gd} and {snakemake.output.figure_k}")
