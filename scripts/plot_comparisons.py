"""The report's claims at a glance (rule `comparisons_figure`): see homework1.present.figures.forest."""

import pandas as pd

from homework1.present import figures
from homework1.job.joblog import job_log

with job_log(snakemake.log[0]) as log:
    claims = pd.read_csv(snakemake.input.comparisons)
    claims = claims[claims["dataset"] == snakemake.wildcards.dataset]
    figures.forest(claims, snakemake.params.dataset, snakemake.output.png, snakemake.output.pdf,
                   alpha=snakemake.params.alpha)
    log(f"drew {len(claims)} claims: {claims['verdict'].value_counts().to_dict()}")
