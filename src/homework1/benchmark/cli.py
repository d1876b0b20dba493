"""The benchmark's command line: time every family of the configured study, estimate the whole study."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from homework1.config import configuration, schema
from homework1 import q2
from homework1.benchmark import threads_option
from homework1.benchmark.epochs import float64_matmul_rate, time_q1, time_q2, timed
from homework1.benchmark.estimate import (
    family_name, job_start_seconds, longest_first_makespan, side_by_side_slowdown, study_runs,
)
from homework1.core.data import load_splits
from homework1.sources import INTEL_SPLITS, synthetic_intel
from homework1.plan.specs import model_spec
from homework1.analysis.tables import to_markdown


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Whole epochs at the homework's true scale: the course's loops "
                                     "against the project's, and the whole study.", parents=[threads_option()])
    parser.add_argument("--quick", action="store_true", help="one round (under 3 minutes)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of one timed epoch per side, interleaved (the median is reported)")
    parser.add_argument("--families", nargs="+", choices=["q1", "q2"], default=["q1", "q2"])
    parser.add_argument("--device", default="cpu", help="for Q2: cpu, cuda, mps or auto (as in the config)")
    parser.add_argument("--cores", type=int, default=os.cpu_count(), help="cores of the study estimate")
    parser.add_argument("--configfile", nargs="*", default=[], help="merged over config/config.yaml, as Snakemake does")
    parser.add_argument("--n-train", type=int, default=INTEL_SPLITS["train"],
                        help="training examples (fewer: a smoke test)")
    parser.add_argument("--out", default="results/benchmarks")
    return parser.parse_args(argv)


def configured_families(config: dict, questions: list[str]) -> dict[tuple, dict]:
    """{family: the hyper-parameters of its first run} of the configured study's runs of ``questions``."""
    families = {}
    for family, hparams, _ in study_runs(config):
        if family[0] in questions:
            families.setdefault(family, hparams)
    return families


def build_data(folder, n_train: int, seed: int) -> tuple[Path, float, float]:
    """The synthetic data set in ``folder``: (its path, seconds to build it, a job's start)."""
    npz = Path(folder) / "synthetic_intel.npz"
    dataset_seconds, _ = timed(lambda: synthetic_intel.build(npz, seed=seed, n_train=n_train, log=lambda line: None))
    return npz, dataset_seconds, job_start_seconds(npz)


def time_family(family: tuple, hparams: dict, splits: dict, args, rounds: int, device, matmul64: float) -> dict:
    """One family timed three ways, as a row of the benchmark's table (printed as well)."""
    question, model = family[:2]
    name = family_name(family)
    implementations = schema.choices("implementation")
    if question == "q1":
        times, same, flops, status = time_q1(model, hparams, splits, rounds, implementations)
        floor, step, limit = None, "kernels" if status == "ok" else status, matmul64
    else:
        times, same, flops, floor, step = time_q2(model, hparams, splits, rounds, device, args.threads,
                                                  implementations)
        limit = flops / floor / 1e9 if floor else float("nan")
    course_s, reference_s, fast_s = (statistics.median(times[side]) for side in ("course", "reference", "fast"))
    compiled = {"torch_compile_s": times["torch.compile"][0]} if "torch.compile" in times else {}
    print(f"{name:>26}: course {course_s:6.3f} s, reference {reference_s:6.3f} s, fast {fast_s:6.3f} s, "
          f"{course_s / fast_s:4.1f}x the course; "
          f"{flops / fast_s / 1e9:5.1f} GFLOP/s (matmul {limit:5.1f})"
          + (f", floor {floor:.3f} s, matrix work at {floor / fast_s:.0%} of the matmul rate" if floor else "")
          + (f", torch.compile {compiled['torch_compile_s']:.3f} s" if compiled else "")
          + f"; {same}", flush=True)
    return {
        "family": name, "course_s": course_s, "reference_s": reference_s, "fast_s": fast_s,
        "speedup": course_s / fast_s, "fast_over_reference": reference_s / fast_s,
        "same_result": same, "fast_path": step, "gflop_per_epoch": flops / 1e9,
        "fast_gflops": flops / fast_s / 1e9, "machine_matmul_gflops": limit,
        "floor_s": floor, "matrix_work_at": floor / fast_s if floor else None, **compiled,
    }


def estimate_study(config: dict, args, table: pd.DataFrame, families: dict, device, start_seconds: float,
                   dataset_seconds: float, n_features: int) -> str:
    """The whole study: every run's epochs at its family's measured epoch, scheduled."""
    epoch_seconds = {family_name(family): seconds for family, seconds in zip(families, table["fast_s"])}
    slots = max(args.cores // config["torch_threads"], 1)
    slowdown = side_by_side_slowdown(slots, device, args.n_train, n_features)
    jobs = [(start_seconds + epochs_of_run * epoch_seconds[family_name(family)]) * (slowdown or 1.0)
            for family, _, epochs_of_run in study_runs(config) if family_name(family) in epoch_seconds]
    makespan = longest_first_makespan(jobs, slots)
    beside = (f"{slots} jobs side by side run {slowdown:.2f}x slower than alone" if slowdown else
              "jobs side by side not measured: they share the GPU" if device.type != "cpu" else
              f"side by side not measured: this machine has fewer than {slots} CPUs")
    scale = "true scale" if args.n_train == INTEL_SPLITS["train"] else f"{args.n_train} training examples"
    looks = " (settle: every look's runs, none decided early)" if config["settle"]["looks"] else ""
    return (f"at {scale}, {len(jobs)} training jobs of the configured study{looks} ({', '.join(args.families)}) on "
            f"{args.cores} cores ({beside}): {sum(jobs) / 60:.1f} min of CPU; data set {dataset_seconds:.0f} s "
            f"+ training {makespan / 60:.1f} min = about {(dataset_seconds + makespan) / 60:.1f} min "
            f"(tables, figures and the Q3 checks add about a minute)")


def write_outputs(args, table: pd.DataFrame, rounds: int, device, study: str) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "benchmark.csv", index=False)
    (out / "benchmark.md").write_text(
        f"Whole epochs at the Intel shapes ({args.n_train} training examples, SYNTHETIC data), {args.threads} "
        f"thread(s), {'quick, ' if args.quick else ''}median of {rounds} round(s); Q2 on {device}.\n\n"
        + to_markdown(table, floatfmt=".3g") + f"\nWhole study: {study}.\n", encoding="utf-8")
    print(f"\nwrote {out / 'benchmark.csv'} and {out / 'benchmark.md'}")


def main(argv=None) -> None:
    args = parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    torch.set_num_threads(args.threads)
    device = q2.resolve_device(args.device)
    config = configuration.load(args.configfile)
    families = configured_families(config, args.families)
    if not families:
        raise SystemExit(f"the configured study has no runs of {', '.join(args.families)}: nothing to time")

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.threads} thread(s); "
          f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"Q2 on {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    print(f"{'quick: ' if args.quick else ''}{rounds} round(s) of one timed epoch per side; load average "
          f"{os.getloadavg()[0]:.2f} (other work skews timings)")

    with tempfile.TemporaryDirectory() as scratch:
        npz, dataset_seconds, start_seconds = build_data(scratch, args.n_train, config["synthetic_intel"]["seed"])
        # each family's examples as its model's spec asks for them (in float64, as Q1's jobs); the flat
        # pixels without the bias always, for the matmul rate and the side-by-side probe
        splits = {("flat", False): load_splits(npz)}
        for question, model in (family[:2] for family in families):
            spec = model_spec(question, model)
            if (spec.inputs, spec.bias) not in splits:
                splits[(spec.inputs, spec.bias)] = load_splits(npz, add_bias=spec.bias, inputs=spec.inputs)
    X = splits[("flat", False)]["train"][0]
    print(f"data: SYNTHETIC stand-in with the Intel shapes, {args.n_train} training images of {X.shape[1]} "
          f"features (random pixels; timing only); building it took {dataset_seconds:.0f} s, a job's start "
          f"{start_seconds:.1f} s\n")
    matmul64 = float64_matmul_rate(X)

    rows = []
    for family, hparams in families.items():
        spec = model_spec(*family[:2])
        rows.append(time_family(family, hparams, splits[(spec.inputs, spec.bias)], args, rounds, device, matmul64))
    table = pd.DataFrame(rows)
    study = estimate_study(config, args, table, families, device, start_seconds, dataset_seconds, X.shape[1])
    print("\nwhole study " + study)
    write_outputs(args, table, rounds, device, study)
