"""One look of settling the report's claims (checkpoint `settle_look`): homework1.comparisons.settle_look."""

import pandas as pd

from homework1 import comparisons
from homework1.files import atomic_write
from homework1.joblog import job_log
from homework1.tables import read_summaries

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    previous = pd.read_csv(snakemake.input.previous[0]) if snakemake.input.previous else None
    summary = read_summaries(snakemake.input.summaries, warn=lambda line: log(line, terminal=True))
    table = comparisons.settle_look(summary, params.claims, params.testable, previous, look=params.look,
                                    looks=params.looks, seeds=params.seeds, alpha=params.alpha,
                                    dataset=snakemake.wildcards.dataset)
    atomic_write(snakemake.output.decisions, lambda tmp: table.to_csv(tmp, index=False))
    log(f"look {params.look} of {params.looks} ({len(params.seeds)} seeds): "
        f"{table['verdict'].value_counts().to_dict()}")
