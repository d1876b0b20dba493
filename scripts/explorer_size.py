"""The run explorer's page at a study's scale: the shipped study's configurations (config/config.yaml),
each with N seeds of synthetic runs (random curves, every epoch its configuration asks for, the metrics
its question records), built into the page as the workflow builds it. Writes, per seed count, the page
and its summary.csv (for .ci/explorer_in_browser.py, which times it) and prints its size. From the
repository root, in the environment of requirements.txt:

    PYTHONPATH=src python scripts/explorer_size.py OUT_DIR 5 20
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from homework1.config.configuration import load
from homework1.plan.study import expand_runs
from homework1.present.explorer import explorer_records
from homework1.present.explorer_page import write_page

# What the real runs record per epoch, by question (the q1 models that record fewer leave those empty).
RECORDED = {"q1": ["train_acc", "val_acc", "train_loss", "weight_norm", "zero_weight_fraction"],
            "q2": ["train_acc_running", "val_acc", "train_loss", "val_loss"]}


def synthetic_study(seeds: int, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """summary.csv's rows and the per-epoch metrics of every configured run, ``seeds`` seeds each."""
    rows, histories = [], []
    for question, experiments in expand_runs(load()).items():
        for experiment, variants in experiments.items():
            for variant, hparams in variants.items():
                for seed in range(1, seeds + 1):
                    identity = dict(dataset="digits", question=question, experiment=experiment, variant=variant,
                                    seed=seed)
                    epochs = int(hparams["epochs"])
                    curves = {name: rng.random(epochs) for name in RECORDED[question]}
                    rows.append(identity | {key: value for key, value in hparams.items() if key != "model"}
                                | {"model": hparams["model"], "status": "ok", "epochs_completed": epochs,
                                   "final_val_acc": curves["val_acc"][-1], "test_acc": rng.random()})
                    histories.append(pd.DataFrame(curves | {"epoch": np.arange(1, epochs + 1)}).assign(**identity))
    metrics = pd.concat(histories, ignore_index=True).reindex(
        columns=["epoch", "train_acc", "train_acc_running", "val_acc", "train_loss", "val_loss", "weight_norm",
                 "zero_weight_fraction", "epoch_time_s", *identity])
    return pd.DataFrame(rows), metrics


def main(out: Path, seed_counts: list[int]) -> None:
    for seeds in seed_counts:
        summary, metrics = synthetic_study(seeds, np.random.default_rng(seeds))
        folder = out / f"seeds{seeds}"
        folder.mkdir(parents=True, exist_ok=True)
        summary.to_csv(folder / "summary.csv", index=False)
        records = explorer_records(summary, metrics, {}, folder)  # synthetic runs have no files to link
        write_page(folder / "explorer.html", records, "synthetic runs")
        size = (folder / "explorer.html").stat().st_size
        print(f"{seeds} seeds: {len(summary)} runs, {metrics.shape[0]} epoch rows, page {size / 1e6:.2f} MB "
              f"({folder / 'explorer.html'})")


if __name__ == "__main__":
    main(Path(sys.argv[1]), [int(count) for count in sys.argv[2:]])
