"""Question 3's figures from its tables (rule `q3_figures`): see homework1.q3.figures."""

import pandas as pd

from homework1.joblog import job_log
from homework1.q3 import figures

with job_log(snakemake.log[0]) as log:
    figures.gd_vs_closed_form(pd.read_csv(snakemake.input.gd_curve), snakemake.params.gd_dim,
                              snakemake.output.figure_gd)
    figures.error_vs_units(pd.read_csv(snakemake.input.k_sweep), snakemake.params.sweep_tolerance,
                           snakemake.output.figure_k)
    log(f"drew {snakemake.output.figure_gd} and {snakemake.output.figure_k}")
