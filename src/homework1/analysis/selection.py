"""A sweep's variants ranked by validation accuracy, with how sure that ranking is."""

from __future__ import annotations

import pandas as pd

from homework1.analysis.paired import best_frequencies
from homework1.analysis.tables import by_config


def select_best(summary: pd.DataFrame, question: str, experiment: str,
                metric: str = "final_val_acc") -> pd.DataFrame:
    """Every variant of one sweep with its mean ``metric`` over seeds, ranked, the best flagged;
    beside it, how often each variant is the best when the seeds (the ones every variant ran)
    are resampled (``best_in_resamples``; empty with fewer than two such seeds)."""
    runs = summary[(summary["question"] == question) & (summary["experiment"] == experiment)]
    if runs.empty:
        raise ValueError(f"no runs of {question}/{experiment} to select from")
    table = by_config(runs)
    # a diverged run has no accuracy: it ranks last
    table["rank"] = table[f"{metric}_mean"].rank(ascending=False, method="min", na_option="bottom").astype(int)
    table["selected"] = table["rank"] == 1
    table["selected_by"] = f"mean {metric} over seeds"
    by_seed = runs.pivot_table(index="variant", columns="seed", values=metric, dropna=False, aggfunc="first")
    ran = runs.groupby("variant")["seed"].apply(set)
    shared = sorted(set.intersection(*ran)) if len(ran) else []
    table["resampled_seeds"] = len(shared)
    if len(shared) >= 2:
        frequencies = best_frequencies(by_seed.reindex(index=table["variant"], columns=shared).to_numpy())
        table["best_in_resamples"] = frequencies
    else:
        table["best_in_resamples"] = float("nan")
    return table.sort_values("rank", ignore_index=True)
