"""One look of settling the report's claims (checkpoint `settle_look`): homework1.analysis.comparisons.settle_look."""

from homework1.analysis import comparisons, sequential
from homework1.core.files import atomic_write
from homework1.job.joblog import job_log
from homework1.analysis.tables import read_summaries

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    plan = sequential.Plan.of(params.settle)
    summary = read_summaries(snakemake.input.summaries, warn=lambda line: log(line, terminal=True))
    table = comparisons.settle_look(summary, params.claims, params.testable,
                                    look=params.look, plan=plan, seeds=params.seeds,
                                    dataset=snakemake.wildcards.dataset)
    atomic_write(snakemake.output.decisions, lambda tmp: table.to_csv(tmp, index=False))
    log(f"look {params.look} of {len(plan.looks)} ({plan.looks[params.look - 1]} seeds): "
        f"{table['verdict'].value_counts().to_dict()}")
