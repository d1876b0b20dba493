"""The run explorer: the records its page is drawn from (runs -> records), the page itself, and the
study building it. That the page draws them in a browser is .ci/explorer_in_browser.py's check."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest

from conftest import TINY, summary_row
from homework1.present.explorer import check_same_runs, explorer_records
from homework1.present.explorer_page import page

LINKS = {"curves": "results/figures/{dataset}/{question}/{experiment}/{variant}.png",
         "summary.json": "results/runs/{dataset}/{question}/{experiment}/{variant}/seed{seed}/summary.json"}


def history(question, experiment, variant, seed, epochs, dataset="digits", **columns):
    """Per-epoch metrics of one run, as plotting.read_metrics gives them: every metric NaN unless given."""
    rows = []
    for epoch in range(1, epochs + 1):
        rows.append({"epoch": epoch, "train_acc": math.nan, "train_acc_running": math.nan, "val_acc": math.nan,
                     "train_loss": math.nan, "val_loss": math.nan, "weight_norm": math.nan,
                     "zero_weight_fraction": math.nan, "epoch_time_s": 0.1,
                     **{name: values[epoch - 1] for name, values in columns.items()},
                     "dataset": dataset, "question": question, "experiment": experiment, "variant": variant,
                     "seed": seed})
    return rows


@pytest.fixture
def study():
    """Two seeds of a q1 run recording its weights' norm, a q2 learning-rate sweep (one run diverged before
    its first epoch), and their metrics."""
    summary = pd.DataFrame([
        summary_row("q1", "logreg", "default", 1, "digits", model="logreg", learning_rate=0.001, epochs=2,
                    epochs_completed=2, final_val_acc=0.81234567, test_acc=0.8),
        summary_row("q1", "logreg", "default", 2, "digits", model="logreg", learning_rate=0.001, epochs=2,
                    epochs_completed=2, final_val_acc=0.79, test_acc=0.78),
        summary_row("q2", "ffn_lr", "learning_rate~1e-05", 1, "digits", model="ffn", learning_rate=1e-5, epochs=2,
                    optimizer="sgd", epochs_completed=2, final_val_acc=0.3, test_acc=0.31),
        summary_row("q2", "ffn_lr", "learning_rate~0.1", 1, "digits", model="ffn", learning_rate=0.1, epochs=2,
                    optimizer="adam", epochs_completed=0, status="diverged"),
    ])
    metrics = pd.DataFrame(
        history("q1", "logreg", "default", 1, 2, train_acc=[0.5, 0.7], val_acc=[0.6, 0.81234567],
                weight_norm=[1.0, 2.5])
        + history("q1", "logreg", "default", 2, 2, train_acc=[0.4, 0.6], val_acc=[0.5, 0.79], weight_norm=[1.5, 3.0])
        + history("q2", "ffn_lr", "learning_rate~1e-05", 1, 2, val_acc=[0.2, 0.3], train_loss=[2.0, 1.9]))
    return summary, metrics


def test_every_run_is_a_record_with_its_curves_and_runs_without_an_epoch_have_none(study):
    records = explorer_records(*study, LINKS, "results")
    assert [run["id"] for run in records["runs"]] == [
        "digits/q1/logreg/default/seed1", "digits/q1/logreg/default/seed2",
        "digits/q2/ffn_lr/learning_rate~1e-05/seed1", "digits/q2/ffn_lr/learning_rate~0.1/seed1"]
    # the metrics some run recorded, the extra one a spec records too; not those no run recorded
    assert set(records["curves"]) == {"train_acc", "val_acc", "train_loss", "weight_norm"}
    assert records["curves"]["val_acc"] == [[0.6, 0.8123], [0.5, 0.79], [0.2, 0.3], None]
    assert records["curves"]["weight_norm"] == [[1, 2.5], [1.5, 3], None, None]
    assert records["labels"]["val_acc"] == "validation accuracy"
    assert [run["epochs"] for run in records["runs"]] == [2, 2, 2, 0]


def test_hover_names_the_run_its_configuration_seed_and_final_numbers(study):
    hover = explorer_records(*study, LINKS, "results")["runs"][0]["hover"]
    for said in ["digits/q1/logreg/default/seed1", "seed 1", "logreg", "learning_rate=0.001",
                 "validation accuracy 0.8123", "test accuracy 0.8", "ok after 2 epochs"]:
        assert said in hover
    assert "q2" not in hover and "optimizer" not in hover  # another run's settings are not this run's
    diverged = explorer_records(*study, LINKS, "results")["runs"][3]["hover"]
    assert "test accuracy NA" in diverged and "diverged after 0 epochs" in diverged


def test_each_run_links_its_files_relative_to_the_page(study):
    run = explorer_records(*study, LINKS, "results")["runs"][2]
    assert run["links"] == {"curves": "figures/digits/q2/ffn_lr/learning_rate~1e-05.png",
                            "summary.json": "runs/digits/q2/ffn_lr/learning_rate~1e-05/seed1/summary.json"}


def test_each_experiment_shows_the_hyper_parameters_its_runs_differ_in_beside_their_accuracies(study):
    view = explorer_records(*study, LINKS, "results")["hparams"]
    assert list(view) == ["q1/logreg", "q2/ffn_lr"]
    assert view["q1/logreg"]["runs"] == [0, 1]
    # nothing differs between the seeds of one configuration: their accuracies only
    assert [d["label"] for d in view["q1/logreg"]["dimensions"]] == ["validation accuracy", "test accuracy"]
    learning_rate, optimizer, val, test = view["q2/ffn_lr"]["dimensions"]
    # 1e-5 to 0.1 spans four decades: a logarithmic axis, its ticks the values themselves
    assert learning_rate == {"label": "learning_rate (log10)", "values": [-5, -1], "tickvals": [-5, -1],
                             "ticktext": ["1e-05", "0.1"]}
    assert optimizer == {"label": "optimizer", "values": [1, 0], "tickvals": [0, 1], "ticktext": ["adam", "sgd"]}
    assert val["values"] == [0.3, None] and test["values"] == [0.31, None]  # the diverged run has none


def test_runs_of_the_summary_and_of_the_metrics_files_must_be_the_same(study):
    summary, _ = study
    paths = [f"results/runs/{run}/metrics.csv" for run in (
        "digits/q1/logreg/default/seed1", "digits/q1/logreg/default/seed2",
        "digits/q2/ffn_lr/learning_rate~1e-05/seed1", "digits/q2/ffn_lr/learning_rate~0.1/seed1")]
    check_same_runs(summary, paths)
    with pytest.raises(ValueError, match=r"run digits/q1/logreg/default/seed2 is in summary.csv but has no "
                                         r"metrics file \(1 such\): rebuild the summary tables"):
        check_same_runs(summary, paths[:1] + paths[2:])
    with pytest.raises(ValueError,
                       match="run digits/q1/logreg/default/seed3 has a metrics file but is not in summary.csv"):
        check_same_runs(summary, paths + ["results/runs/digits/q1/logreg/default/seed3/metrics.csv"])


def test_the_page_carries_plotly_and_the_records_once_and_needs_no_network(study):
    summary, metrics = study
    summary.loc[0, "variant"] = metrics.loc[:1, "variant"] = "</script><b>"
    records = explorer_records(summary, metrics, LINKS, "results")
    text = page(records, "The runs")
    assert "Plotly" in text and len(text) > 1_000_000  # plotly's JavaScript inline
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)  # nothing fetched when it opens
    data = re.search(r'<script type="application/json" id="records">(.*?)</script>', text, re.S).group(1)
    assert json.loads(data) == records  # a run named like a closing tag ends nothing early
    assert text.count('"hover":"<b>') == len(records["runs"])  # each run's text once


@pytest.mark.slow
def test_the_study_builds_the_explorer_of_every_run(workspace):
    workspace.run(TINY, "results/explorer.html")
    html = (workspace.work / "results/explorer.html").read_text(encoding="utf-8")
    summary = pd.read_csv(workspace.work / "results/tables/summary.csv")
    records = json.loads(re.search(r'id="records">(.*?)</script>', html, re.S).group(1).replace("<\\/", "</"))
    assert len(records["runs"]) == len(summary) == 8
    assert {"val_acc", "train_loss", "weight_norm"} <= set(records["curves"])
    for run in records["runs"]:
        assert (workspace.work / "results" / run["links"]["summary.json"]).is_file()
