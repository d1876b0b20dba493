"""Question 3's checks as the workflow runs them: settings, the table of claims, the figures."""

from pathlib import Path

import pandas as pd
import pytest

from homework1.config import configuration
from homework1.present import q3_figures as figures
from homework1.q3 import checks

SMALL = {"identity_dims": [1, 3], "identity_units": [2, 10], "construction_dims": [1, 3],
         "sweep_dim": 2, "sweep_targets": 1, "sweep_starts": 2, "gd_features": ["bmi", "bp"],
         "gd_units": [8, 1], "gd_steps": 400, "gd_starts": 1, "gd_gap_tolerance": 1e-3}


def q3_settings(**options) -> dict:
    """The q3: section the workflow hands its job: ``options`` over the schema's defaults, settled."""
    return configuration.load(overrides={"q3": options})["q3"]


def test_every_output_is_written_and_every_check_passes(tmp_path):
    outputs = {"checks": tmp_path / "tables" / "checks.csv", "gd_curve": tmp_path / "gd.csv",
               "k_sweep": tmp_path / "k.csv"}
    lines = []
    table = checks.run_checks(q3_settings(**SMALL, rank_deficient_samples=4), outputs, lines.append)
    assert table["passed"].all(), table.loc[~table["passed"], ["claim", "setting", "measured"]]
    on_disk = pd.read_csv(outputs["checks"])
    assert list(on_disk.columns) == ["claim", "setting", "measured", "tolerance", "passed", "note"]
    assert len(on_disk) == len(table)
    curve = pd.read_csv(outputs["gd_curve"])
    assert {"step", "start", "K", "loss", "closed_form_loss"} <= set(curve.columns)
    assert len(curve) == 2 * 400
    k = pd.read_csv(outputs["k_sweep"])
    assert list(k["K"]) == list(range(1, 7))
    assert "checks, 0 failed" in lines[-1]
    assert "N < dim phi: N=4, dim phi=6" in on_disk["setting"].str.cat(sep="\n")

    figures.gd_vs_closed_form(curve, 2, tmp_path / "figs" / "gd.png")
    figures.error_vs_units(k, 1e-6, tmp_path / "figs" / "k.png")
    for name in ("gd.png", "k.png"):
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failed_check_is_named_in_the_log(tmp_path):
    # a tolerance no float64 identity can meet
    outputs = {name: tmp_path / f"{name}.csv" for name in ("checks", "gd_curve", "k_sweep")}
    lines = []
    table = checks.run_checks(q3_settings(**SMALL, tolerance=1e-300), outputs, lines.append)
    failed = table.loc[~table["passed"], "claim"]
    assert set(failed) == {"h = A_theta phi(x)", "y = c_theta^T phi(x)"}
    assert f"checks, {len(failed)} failed" in lines[-1] and "FAILED h = A_theta phi(x)" in lines[-1]


def test_unknown_settings_are_refused_by_name():
    with pytest.raises(configuration.ConfigError, match="q3: unknown key 'sede'; allowed here: condition_threshold"):
        q3_settings(sede=1)


def test_every_setting_has_its_default_in_the_schema():
    settings = q3_settings()
    properties = configuration.config_schema()["properties"]["q3"]["properties"]
    assert set(settings) == set(properties)
    assert settings["gd_features"] == ["bmi", "bp", "s5", "s1"] and settings["rank_deficient_samples"] == 10


@pytest.mark.parametrize("features, expected", [
    (["bmi", "bp", "s5", "s1"], 10),  # dim phi 15: the default fits
    (["bmi", "bp"], 5),               # dim phi 6
    (["bmi"], 2),                     # dim phi 3
])
def test_rank_deficient_samples_left_unset_adapts_to_the_features(features, expected):
    assert q3_settings(gd_features=features)["rank_deficient_samples"] == expected


@pytest.mark.parametrize("samples", [6, 11])
def test_rank_deficient_samples_set_out_of_range_names_the_key_and_the_range(samples):
    with pytest.raises(configuration.ConfigError, match=r"rank_deficient_samples = \d+ is out of range.*"
                                                        r"dim phi = 6.*1 <= rank_deficient_samples <= 5"):
        q3_settings(gd_features=["bmi", "bp"], rank_deficient_samples=samples)


def test_settled_settings_settle_to_themselves():
    settled = q3_settings(gd_features=["bmi", "bp"])
    assert q3_settings(**settled) == settled


def test_entry_scripts_have_no_future_import():
    # Snakemake's script: directive prepends a preamble, after which a __future__ import is a SyntaxError
    for script in (Path(__file__).resolve().parents[1] / "scripts").glob("*.py"):
        assert "from __future__" not in script.read_text(), script.name
