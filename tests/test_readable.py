"""Tables and figures readable at the margin: bounds whose sign shows, titles inside their figures."""

import re

import pandas as pd
import pytest

from homework1.analysis import comparisons, tables
from homework1.plan import claims as claims_module
from homework1.plan import specs
from homework1.present import figures, plotting

REPO_CLAIMS = claims_module.read_claims(tables.Path(__file__).resolve().parents[1] / "config/report_comparisons.csv")


@pytest.mark.parametrize("value, shown", [(-3.1e-5, "-3.10e-05"), (3.1e-5, "3.10e-05"), (0.0, "0"), (-0.0, "0"),
                                          (0.12344, "0.1234"), (-0.5, "-0.5000"), (float("nan"), "")])
def test_a_number_that_would_print_as_zeros_shows_its_sign(value, shown):
    assert tables.readable_number(value) == shown


def test_markdown_tables_never_print_a_signed_zero():
    frame = pd.DataFrame({"claim": ["dropout 0.25 beats 0.01"], "low": [-0.0123], "high": [-3.1e-5], "p": [0.0]})
    text = tables.to_markdown(frame)
    assert "-3.10e-05" in text and "0.0000" not in text


DESCRIPTION = "digits (embedded 8x8 stand-in for the homework's photos)"


def runs_of(experiment="logreg_l2", variant="default", seeds=(1, 2, 3, 4, 5)) -> pd.DataFrame:
    """Per-epoch metrics of a configuration's runs, as plotting.read_metrics gives them."""
    return pd.DataFrame([{"epoch": epoch, "train_acc": 0.5, "val_acc": 0.4 + 0.01 * seed, "train_loss": 1.0 / epoch,
                          "val_loss": 1.2 / epoch, "weight_norm": 2.0 * epoch, "zero_weight_fraction": 0.0,
                          "train_acc_running": None, "epoch_time_s": 0.1, "experiment": experiment,
                          "variant": variant, "seed": seed, "question": "q1", "dataset": "digits"}
                         for seed in seeds for epoch in (1, 2, 3)])


def claims_table() -> pd.DataFrame:
    return pd.DataFrame([{"report_id": claim["report_id"], "claim": claim["claim"], "metric": claim["metric"],
                          "verdict": "holds" if index % 2 else "undecided", "mean_difference": 0.01 * index,
                          "low": -0.02, "high": 0.03 + 0.01 * index, "n_pairs": 5, "p": 0.01}
                         for index, claim in enumerate(REPO_CLAIMS)])


FIGURES = {
    "run curves": lambda path: figures.run_curves(runs_of(), "q1/logreg_l2 default", "q1", DESCRIPTION, path),
    "weight norm of one configuration": lambda path: figures.weight_norm(runs_of(), DESCRIPTION, path),
    "forest": lambda path: figures.forest(claims_table(), DESCRIPTION, path, alpha=0.05),
    "before and after": lambda path: figures.before_after(
        runs_of(seeds=(42,)), runs_of(), "q2/ffn_dropout dropout~0.25",
        "identical on seed 42; seeds 1-4 only after", DESCRIPTION, path),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_titles_fit_inside_their_figures(name, tmp_path, monkeypatch):
    """Each figure drawn with the longest titles a study gives (the data set's description, five seeds): no
    text reaches past its edges."""
    kept = []
    monkeypatch.setattr(plotting.plt, "close", kept.append)
    FIGURES[name](tmp_path / "figure.png")
    assert kept and plotting.overflow(kept[0]) < 0.01


def documented_columns() -> set[str]:
    """The column names docs/tables.md describes (each in backticks), with every hyper-parameter a model uses
    (a column each in the summary) and the per-look p-values (p_at_look_k)."""
    text = (tables.Path(__file__).resolve().parents[1] / "docs/tables.md").read_text(encoding="utf-8")
    hparams = {name for spec in specs.model_specs().values() for name in spec.hparams}
    return set(re.findall(r"`([A-Za-z_0-9]+)`", text)) | hparams


def undocumented(columns) -> list[str]:
    known = documented_columns()
    return [column for column in columns if re.sub(r"^p_at_look_\d+$", "p_at_look_k", column) not in known]


def test_every_column_of_the_claims_and_changes_tables_is_described():
    assert undocumented([*comparisons.COLUMNS, *comparisons.SETTLE_COLUMNS, "p_at_look_3"]) == []
    assert undocumented(["made_up_column"]) == ["made_up_column"]
