"""The reproduction tables: report numbers and their verdicts, benchmark parsing."""

import pandas as pd
import pytest

from conftest import REPO, flag, summary_row, write_run
from homework1.plan import claims
from homework1.config import configuration
from homework1.analysis import reproduction, runtime, tables
from homework1.plan.specs import figure_caption
from homework1.plan.study import expand_runs

REPORT_NUMBERS = REPO / "config" / "report_numbers.csv"
COMPARISONS = claims.read_claims(REPO / "config" / "report_comparisons.csv")
BENCHMARK_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def numbers(*rows):
    """A report_numbers frame from (report_id, question, experiment, variant, metric, value, kind)."""
    columns = reproduction.REPORT_COLUMNS[:-1]
    return pd.DataFrame([dict(zip(columns, row)) | {"note": ""} for row in rows])


def by_id(table):
    return {(row.experiment, row.variant, row.metric): row for row in table.itertuples()}


# ---------------------------------------------------------------- config/report_numbers.csv

def configured_runs():
    """{(question, experiment, variant)} that config/config.yaml produces."""
    return {(question, experiment, variant)
            for question, experiments in expand_runs(configuration.load()).items()
            for experiment, variants in experiments.items() for variant in variants}


def test_report_numbers_load_with_the_reports_ids_and_kinds():
    report = reproduction.read_report_numbers(REPORT_NUMBERS)
    assert list(report.columns) == reproduction.REPORT_COLUMNS
    assert set(report["report_id"]) == {"1.1a", "1.2a", "1.2b", "1.2c", "1.3a",
                                        "2.1", "2.2a", "2.2b", "2.2c"}
    assert len(report) == 26
    assert not report.duplicated(["experiment", "variant", "metric"]).any()
    kinds = report.groupby("kind")["metric"].apply(set).to_dict()
    assert kinds["timing"] == {"wall_time_s"}
    assert set(report[report["kind"] == "approximate"]["report_id"]) == {"1.2c", "2.1"}
    value = report.set_index(["experiment", "variant", "metric"])["report_value"]
    assert value[("perceptron", "default", "test_acc")] == 0.3743
    assert value[("ffn_momentum", "momentum~0.0", "final_val_acc")] == 0.4701
    assert value[("ffn_batch", "batch_size~64", "wall_time_s")] == 165


def test_a_figures_caption_cites_the_report_values_of_report_numbers(tmp_path):
    caption = figure_caption("weight_norm", REPORT_NUMBERS)
    assert "(to about 25 on its data)" in caption and "(about 4.3)" in caption
    edited = tmp_path / "report_numbers.csv"
    edited.write_text(REPORT_NUMBERS.read_text(encoding="utf-8").replace(",final_weight_norm,4.3,",
                                                                         ",final_weight_norm,4.4,"), encoding="utf-8")
    assert "(about 4.4)" in figure_caption("weight_norm", edited)
    edited.write_text("\n".join(line for line in REPORT_NUMBERS.read_text(encoding="utf-8").splitlines()
                                if ",logreg_l2," not in line), encoding="utf-8")
    with pytest.raises(ValueError, match=f"{edited}: no report value 'q1/logreg_l2/default/final_weight_norm'"):
        figure_caption("weight_norm", edited)


def test_every_report_number_and_comparison_names_a_configured_run():
    runs = configured_runs()
    assert ("q2", "logreg_lr", "learning_rate~1e-05") in runs  # the repr naming, as the workflow does
    report = reproduction.read_report_numbers(REPORT_NUMBERS)
    named = set(zip(report["question"], report["experiment"], report["variant"]))
    assert named - runs == set()
    for comparison in COMPARISONS:
        for side in ("better", "worse"):
            assert (comparison["question"], *comparison[side].split("/")) in runs


def test_report_numbers_reject_an_unknown_kind(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text(REPORT_NUMBERS.read_text().replace(",exact,", ",roughly,", 1))
    with pytest.raises(ValueError, match="roughly"):
        reproduction.read_report_numbers(path)


# ---------------------------------------------------------------- reproduction_table

REPORT = numbers(
    ("1.1a", "q1", "perceptron", "default", "test_acc", 0.3743, "exact"),
    ("1.1a", "q1", "perceptron", "default", "final_train_acc", 0.5598, "exact"),
    ("1.1a", "q1", "perceptron", "default", "final_val_acc", 0.3868, "exact"),
    ("1.3a", "q1", "mlp", "default", "test_acc", 0.5443, "exact"),
    ("2.1", "q2", "logreg_lr", "learning_rate~0.001", "final_val_acc", 0.52, "approximate"),
    ("2.2a", "q2", "ffn_batch", "batch_size~64", "wall_time_s", 165, "timing"),
    ("2.2b", "q2", "ffn_dropout", "dropout~0.25", "test_acc", 0.6063, "exact"),
    ("2.2b", "q2", "ffn_dropout", "dropout~0.5", "test_acc", 0.5950, "exact"),
    ("1.2c", "q1", "logreg", "default", "final_weight_norm", 25, "approximate"),
    ("1.2c", "q1", "logreg_l2", "default", "final_weight_norm", 4.3, "approximate"),
)


def summary_runs(dataset="intel_landscapes"):
    return pd.DataFrame([
        # 0.37433... prints as 0.3743; train is far off; val is off by 0.8%
        summary_row("q1", "perceptron", "default", 42, dataset, test_acc=0.3743333, final_train_acc=0.60,
            final_val_acc=0.39),
        summary_row("q2", "logreg_lr", "learning_rate~0.001", 42, dataset, final_val_acc=0.53),
        summary_row("q2", "ffn_batch", "batch_size~64", 42, dataset, wall_time_s=40.0),
        # three seeds around 0.61 (std 0.01): 0.6063 lies within 2 std
        *[summary_row("q2", "ffn_dropout", "dropout~0.25", seed, dataset, test_acc=acc)
          for seed, acc in ((1, 0.60), (2, 0.61), (3, 0.62))],
        # three seeds around 0.70 (std 0.001): 0.5950 is far outside
        *[summary_row("q2", "ffn_dropout", "dropout~0.5", seed, dataset, test_acc=acc)
          for seed, acc in ((1, 0.699), (2, 0.700), (3, 0.701))],
    ])


def test_reproduction_verdicts_on_the_reports_data_set():
    norms = pd.DataFrame({"experiment": ["logreg", "logreg"], "variant": ["default"] * 2,
                          "seed": [1, 2], "final_weight_norm": [24.0, 24.5]})
    table = reproduction.reproduction_table(tables.by_config(summary_runs()), REPORT,
                                            "intel_landscapes", norms)
    rows = by_id(table)
    assert len(table) == len(REPORT) and set(table["dataset"]) == {"intel_landscapes"}
    assert table["comparable"].all()

    exact = rows[("perceptron", "default", "test_acc")]
    assert exact.verdict == "matches" and flag(exact.within_seed_spread) is True and exact.n_seeds == 1
    assert exact.difference == pytest.approx(0.0000333)
    assert rows[("perceptron", "default", "final_train_acc")].verdict == "differs"
    assert flag(rows[("perceptron", "default", "final_train_acc")].within_seed_spread) is False
    assert rows[("perceptron", "default", "final_val_acc")].verdict == "close"

    approx = rows[("logreg_lr", "learning_rate~0.001", "final_val_acc")]
    assert approx.verdict == "close" and flag(approx.within_seed_spread) is None

    timing = rows[("ffn_batch", "batch_size~64", "wall_time_s")]
    assert timing.verdict == "n/a (timing)" and timing.ours_mean == 40.0 and timing.difference == -125.0

    missing = rows[("mlp", "default", "test_acc")]
    assert missing.verdict == "not run" and missing.n_seeds == 0 and pd.isna(missing.ours_mean)

    inside = rows[("ffn_dropout", "dropout~0.25", "test_acc")]
    assert inside.n_seeds == 3 and inside.ours_mean == pytest.approx(0.61)
    assert inside.ours_std == pytest.approx(0.01)
    assert flag(inside.within_seed_spread) is True and inside.verdict == "within seed spread"
    outside = rows[("ffn_dropout", "dropout~0.5", "test_acc")]
    assert flag(outside.within_seed_spread) is False and outside.verdict == "differs"

    norm = rows[("logreg", "default", "final_weight_norm")]
    assert norm.ours_mean == pytest.approx(24.25) and norm.n_seeds == 2 and norm.verdict == "close"
    assert rows[("logreg_l2", "default", "final_weight_norm")].verdict == "not run"


def test_reproduction_on_another_data_set_fills_ours_but_is_not_comparable():
    summary = pd.concat([summary_runs("digits"),
                         pd.DataFrame([summary_row("q1", "mlp", "default", 42, "intel_landscapes", test_acc=0.5)])])
    table = reproduction.reproduction_table(tables.by_config(summary), REPORT, "digits")
    rows = by_id(table)
    exact = rows[("perceptron", "default", "test_acc")]
    assert exact.dataset == "digits" and exact.ours_mean == pytest.approx(0.3743333)
    assert flag(exact.comparable) is False
    assert exact.verdict == "other data set (digits)" and flag(exact.within_seed_spread) is None
    # the intel run of the MLP is not counted as a digits run
    assert rows[("mlp", "default", "test_acc")].verdict == "not run"
    assert rows[("ffn_batch", "batch_size~64", "wall_time_s")].verdict == "other data set (digits)"


def test_timings_compare_on_the_synthetic_stand_in_but_accuracies_do_not():
    table = reproduction.reproduction_table(tables.by_config(summary_runs("synthetic_intel")),
                                            REPORT, "synthetic_intel")
    rows = by_id(table)
    assert rows[("ffn_batch", "batch_size~64", "wall_time_s")].verdict == "n/a (timing)"
    assert flag(rows[("ffn_batch", "batch_size~64", "wall_time_s")].comparable) is True
    assert rows[("perceptron", "default", "test_acc")].verdict == "other data set (synthetic_intel)"


def test_a_configuration_without_the_metric_has_no_value():
    summary = pd.DataFrame([summary_row("q1", "mlp", "default", 42)])  # every metric NaN (e.g. diverged)
    table = reproduction.reproduction_table(tables.by_config(summary), REPORT, "intel_landscapes")
    assert by_id(table)[("mlp", "default", "test_acc")].verdict == "no value"


# ---------------------------------------------------------------- final_weight_norms

def test_final_weight_norms_take_the_last_epoch_and_skip_runs_without_a_norm(tmp_path):
    def write(experiment, train_acc, weight_norm):
        folder = tmp_path / "results/runs/digits/q1" / experiment / "default/seed7"
        write_run(folder, [{"epoch": epoch, "train_acc": acc, "weight_norm": norm}
                           for epoch, (acc, norm) in enumerate(zip(train_acc, weight_norm), start=1)])
        return folder / "metrics.csv"

    logreg = write("logreg", [0.1, 0.2, 0.3], [1.0, 2.0, 3.5])
    mlp = write("mlp", [0.1, 0.2], [float("nan")] * 2)
    norms = reproduction.final_weight_norms([logreg, mlp])
    assert norms.to_dict("records") == [{"dataset": "digits", "question": "q1", "experiment": "logreg",
                                         "variant": "default", "seed": 7, "final_weight_norm": 3.5}]


# ---------------------------------------------------------------- runtime_table

def test_runtime_table_reads_snakemake_benchmarks_with_missing_values(tmp_path):
    bench = tmp_path / "benchmarks"
    files = {
        "runs/digits/q2/ffn_batch/batch_size~64/seed42.tsv":
            "165.27\t0:02:45\t812.50\t3100.2\t700.1\t720.3\t1.20\t0.40\t98.51\t160.03\n",
        "datasets/digits.tsv": "1.10\t0:00:01\tNA\tNA\t-\t-\tNA\tNA\t45.35\tNA\n",
        "theory/q3_checks.tsv": "12.85\t0:00:12\t460.70\t940.48\t427.71\t440.48\t0.02\t1.96\t90.81\t12.16\n",
    }
    paths = []
    for name, line in files.items():
        path = bench / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BENCHMARK_HEADER + line)
        paths.append(path)
    table = runtime.runtime_table(paths).set_index("job")

    assert list(table.index) == ["datasets/digits", "runs/digits/q2/ffn_batch/batch_size~64/seed42",
                                 "theory/q3_checks"]
    train = table.loc["runs/digits/q2/ffn_batch/batch_size~64/seed42"]
    assert (train.dataset, train.question, train.experiment, train.variant, train.seed) == \
        ("digits", "q2", "ffn_batch", "batch_size~64", 42)
    assert (train.wall_s, train.max_rss_mb, train.cpu_time_s) == (165.27, 812.50, 160.03)

    data = table.loc["datasets/digits"]
    assert data.dataset == "digits" and data.wall_s == 1.10
    assert pd.isna(data.max_rss_mb) and pd.isna(data.cpu_time_s) and pd.isna(data.seed)
    theory = table.loc["theory/q3_checks"]
    assert theory.question == "" and theory.cpu_time_s == 12.16
