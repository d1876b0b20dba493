"""What the workflow checks as it starts, once it knows whether its jobs go to a cluster: that a SLURM
submission cannot stall or ask more than the cluster has, and which executor to watch. Used by the
onstart hook of workflow/rules/common.smk with Snakemake's ``workflow`` object."""

from __future__ import annotations

from collections import Counter

from homework1.job import slurm


def array_stall_problem(array_rules: str | None, cluster_jobs: dict[str, int], jobs: int) -> str | None:
    """Why submitting ``cluster_jobs`` ({rule: jobs to do on the cluster}) with SLURM job arrays for
    ``array_rules`` (the plugin's --slurm-array-jobs) and ``--jobs`` would stall (None if it cannot).

    The SLURM plugin (2.8) submits a rule's jobs as an array only once it holds all of that rule's
    ready jobs, or a full chunk of --slurm-array-limit; the jobs it is handed before then it never
    submits, and Snakemake, which hands it at most --jobs at a time, waits for them for ever. So
    unless --jobs covers every cluster job of the study at once, a run can stall.
    """
    rules = {rule.strip() for rule in (array_rules or "").replace(";", ",").split(",") if rule.strip()}
    arrays = {rule: n for rule, n in cluster_jobs.items() if n > 1 and ("all" in rules or rule in rules)}
    total = sum(cluster_jobs.values())
    if not arrays or jobs >= total:
        return None
    largest = max(arrays, key=arrays.get)
    return (f"--jobs {jobs} is below the {total} cluster jobs of this study ({arrays[largest]} of them {largest}), "
            f"which --slurm-array-jobs submits as job arrays: the SLURM plugin holds back the runs of an array "
            f"until it has them all, and Snakemake hands it at most {jobs} at a time, so the run would wait for "
            f"ever. Set --jobs {total} or more (arrays still go out as few submissions), or submit each run on its "
            f"own with --slurm-array-jobs ''")


def cluster_jobs(workflow) -> list:
    """The jobs of this run that go to the cluster."""
    return [job for job in workflow.dag.needrun_jobs() if not job.is_local]


def slurm_executor(workflow, jobs: list):
    """The SLURM plugin's executor of ``jobs`` (it names every job by this run's id, ``run_uuid``), or
    None under another executor. ``scheduler.get_executor`` is the scheduler's public method."""
    executor = workflow.scheduler.get_executor(jobs[0]) if jobs else None
    return executor if hasattr(executor, "run_uuid") else None


def cluster_problem(workflow) -> str | None:
    """Why this run's cluster jobs should not be submitted (None: they may be): job arrays that would
    stall, or a submission (a job, or the group it belongs to) larger than any partition."""
    jobs = cluster_jobs(workflow)
    array_rules = getattr(workflow.executor_settings, "array_jobs", None)
    if problem := array_stall_problem(array_rules, Counter(job.rule.name for job in jobs),
                                      workflow.resource_settings.nodes):
        return problem
    if slurm_executor(workflow, jobs):
        submissions = dict.fromkeys(workflow.dag.get_job_group(job) or job for job in jobs)
        partitions = slurm.cluster_partitions()
        if partitions:
            return slurm.too_large_for_the_cluster(submissions, partitions)
    return None


def watch_slurm(workflow, interval: float) -> slurm.Watch | None:
    """A watch over this run's SLURM jobs (homework1.job.slurm.watch), or None off SLURM."""
    executor = slurm_executor(workflow, cluster_jobs(workflow))
    return slurm.watch(executor, workflow.scheduler, interval) if executor else None
