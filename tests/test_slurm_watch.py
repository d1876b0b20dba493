"""What the workflow reads from SLURM and decides from it, without a cluster: the nodes of each
partition (sinfo), a pending job (squeue), what Snakemake's jobs and groups ask for, and the end of
the plugin's wait on a shutdown. tests/test_slurm.py runs the same on a real cluster."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest

from homework1.job.slurm import (
    Node,
    Partitions,
    QueuedJob,
    end_waits_on_shutdown,
    job_request,
    memory_mb,
    too_large_for_the_cluster,
)

# sinfo --noheader --Node --format=%P|%N|%c|%m on the test cluster (.ci/start_local_slurm), and a
# partition of two unlike nodes: one with more CPUs, the other with more memory
SINFO = """main*|vm|2|21694
requeue|vm|2|21694
urgent|vm|2|21694
mixed|cpus|16|8000
mixed|memory|4|64000
"""


def test_the_nodes_of_each_partition_and_the_default_one_are_read_from_sinfo():
    partitions = Partitions.parse(SINFO)
    assert partitions.default == "main"
    assert partitions.nodes["main"] == (Node("vm", 2, 21694),)
    assert partitions.largest("mixed") == Node("cpus", 16, 8000)


def test_a_request_fits_only_where_one_node_holds_both_its_cpus_and_its_memory():
    partitions = Partitions.parse(SINFO)
    assert partitions.too_large("mixed", 16, 8000) is None and partitions.too_large("mixed", 4, 64000) is None
    # 16 CPUs and 64000 MB are each somewhere, on no node together
    assert partitions.too_large("mixed", 8, 16000) == (
        "asks for 8 CPUs and 16000 MB, more than the largest node of partition mixed has (cpus: 16 CPUs, 8000 MB)")
    # no partition named: the default one; what a job leaves to SLURM is not compared
    assert partitions.too_large(None, 15, 60000) == (
        "asks for 15 CPUs and 60000 MB, more than the largest node of partition main has (vm: 2 CPUs, 21694 MB)")
    assert partitions.too_large(None, 3, None).startswith("asks for 3 CPUs, more than")
    assert partitions.too_large(None, None, None) is None
    assert partitions.too_large("elsewhere", 100, 100) is None  # a partition sinfo does not list: SLURM says


@pytest.mark.parametrize("text, mb", [("60000M", 60000), ("20G", 20480), ("1.5G", 1536), ("2T", 2097152),
                                      ("500", 500)])
def test_slurm_memory_sizes_are_read_in_mb(text, mb):
    assert memory_mb(text) == mb


def test_a_pending_job_larger_than_any_node_is_named_with_its_request_and_the_largest_node():
    # squeue's line for a group of 15 Question 1 runs sent without --cores (measured on the test cluster)
    job = QueuedJob.parse("123|PartitionConfig|cpu=15,mem=60000M,node=1,billing=15|main|"
                          "rule_q1_runs_wildcards_digits_1\n")
    assert (job.id, job.reason, job.cpus, job.mem_mb, job.partition) == ("123", "PartitionConfig", 15, 60000, "main")
    line = job.never_starts(Partitions.parse(SINFO))
    assert line.startswith(
        "ERROR: SLURM job 123 (rule_q1_runs_wildcards_digits_1) asks for 15 CPUs and 60000 MB, more than the largest "
        "node of partition main has (vm: 2 CPUs, 21694 MB): it can never start (SLURM keeps it pending: "
        "PartitionConfig), so the workflow stops.")
    assert "\n" not in line


def test_a_pending_job_waits_for_resources_a_node_has_but_not_for_more_than_any_node_has():
    partitions = Partitions.parse(SINFO)
    waiting = QueuedJob.parse("7|Resources|cpu=2,mem=8000M,node=1,billing=2|main|rule_train_q2_wildcards_x")
    assert waiting.never_starts(partitions) is None
    # pending for Resources that no node has: it never starts either
    never = QueuedJob.parse("8|Resources|cpu=4,mem=8000M,node=1,billing=4|main|rule_train_q2_wildcards_x")
    assert "asks for 4 CPUs and 8000 MB, more than the largest node of partition main" in never.never_starts(partitions)
    # a request some node holds that the partition's own limits refuse (SLURM says PartitionConfig)
    limited = QueuedJob.parse("9|PartitionConfig|cpu=1,mem=100M,node=1,billing=1|main|rule_train_q1_wildcards_x")
    assert "asks for 1 CPU and 100 MB in partition main, more than its limits allow (scontrol show partition main)" \
        in limited.never_starts(partitions)
    # where sinfo did not answer, PartitionConfig still tells
    assert limited.never_starts(None) is not None and waiting.never_starts(None) is None


def snakemake_job(rule="train_q1", threads=1, **resources):
    """What the plugin reads of a Snakemake job (snakemake.jobs.Job)."""
    return SimpleNamespace(rule=SimpleNamespace(name=rule), threads=threads, resources=resources,
                           wildcards_dict={"experiment": "mlp", "seed": "1"}, is_group=lambda: False)


def snakemake_group(members, threads, **resources):
    """What the plugin reads of a Snakemake job group (snakemake.jobs.GroupJob): its resources summed
    by Snakemake up to --cores."""
    return SimpleNamespace(groupid="q1_runs", jobs=members, threads=threads, resources=resources,
                           is_group=lambda: True)


def test_a_job_asks_for_its_cpus_per_task_or_else_its_threads_and_its_memory_as_the_plugin_does():
    assert job_request(snakemake_job(threads=2, mem_mb=4000)) == (2, 4000)
    assert job_request(snakemake_job(threads=2, cpus_per_task=4, mem_mb=4000)) == (4, 4000)
    assert job_request(snakemake_job(cpus_per_task=4, mem_mb_per_cpu=1000, mem_mb=4000)) == (4, 4000)
    assert job_request(snakemake_job(cpus_per_task=-1, mem_mb=4000)) == (None, 4000)  # left to SLURM
    assert job_request(snakemake_job(mem_mb="<TBD>")) == (1, None)  # known once the job's inputs are


def test_a_group_larger_than_any_node_is_named_before_submission_with_the_cores_to_give():
    partitions = Partitions.parse(SINFO)
    runs = [snakemake_job() for _ in range(15)]
    problem = too_large_for_the_cluster([snakemake_job(), snakemake_group(runs, 15, mem_mb=60000)], partitions)
    assert problem == (
        "the SLURM job of group q1_runs (15 jobs of train_q1) asks for 15 CPUs and 60000 MB, more than the largest "
        "node of partition main has (vm: 2 CPUs, 21694 MB): SLURM would keep it pending for ever. A job group asks "
        "for its jobs side by side up to --cores: give at most a node's CPUs (--cores 2)")
    # the same runs two at a time fit
    assert too_large_for_the_cluster([snakemake_group(runs, 2, mem_mb=8000)], partitions) is None
    one = too_large_for_the_cluster([snakemake_job(threads=32, mem_mb=4000, slurm_partition="mixed")] * 2, partitions)
    assert one.startswith("the SLURM job of rule train_q1 (experiment=mlp, seed=1) asks for 32 CPUs and 4000 MB, more "
                          "than the largest node of partition mixed has (cpus: 16 CPUs, 8000 MB)")
    assert one.endswith("(1 more cluster jobs are too large too). Ask for less (--set-resources) or another "
                        "partition (slurm_partition)")


class PollingExecutor:
    """The part of a Snakemake remote executor that the SLURM plugin's status thread runs: look at the
    jobs, sleep until the next look, until a shutdown clears ``wait`` (and joins the thread)."""

    def __init__(self):
        self.wait, self.looks = True, threading.Event()

    async def sleep(self):
        await asyncio.sleep(600)  # the plugin's waits grow to 180 s

    async def wait_for_jobs(self):
        while self.wait:
            self.looks.set()
            await self.sleep()


def test_the_plugins_wait_between_two_looks_ends_once_snakemake_shuts_it_down():
    executor = PollingExecutor()
    end_waits_on_shutdown(executor)
    status = threading.Thread(target=asyncio.run, args=(executor.wait_for_jobs(),), daemon=True)
    status.start()
    assert executor.looks.wait(30)
    executor.wait = False  # what the shutdown does before it joins the thread
    status.join(timeout=60)  # far below the wait of 600 s
    assert not status.is_alive()
