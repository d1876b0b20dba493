"""Question 3's checks as the workflow runs them: settings, the table of claims, the figures."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from homework1 import q3_checks

OUTPUTS = ("checks", "gd_curve", "k_sweep", "figure_gd", "figure_k")
SMALL = {"identity_dims": [1, 3], "identity_units": [2, 10], "construction_dims": [1, 3],
         "sweep_dim": 2, "sweep_targets": 1, "sweep_starts": 2, "gd_features": ["bmi", "bp"],
         "gd_units": [8, 1], "gd_steps": 400, "gd_starts": 1, "gd_gap_tolerance": 1e-3}


def test_every_output_is_written_and_every_check_passes(tmp_path):
    outputs = {"checks": tmp_path / "tables" / "checks.csv", "gd_curve": tmp_path / "gd.csv",
               "k_sweep": tmp_path / "k.csv", "figure_gd": tmp_path / "figs" / "gd.png",
               "figure_k": tmp_path / "figs" / "k.png"}
    lines = []
    checks = q3_checks.run_checks(dict(SMALL, rank_deficient_samples=4), outputs, lines.append)
    assert checks["passed"].all(), checks.loc[~checks["passed"], ["claim", "setting", "measured"]]
    on_disk = pd.read_csv(outputs["checks"])
    assert list(on_disk.columns) == ["claim", "setting", "measured", "tolerance", "passed", "note"]
    assert len(on_disk) == len(checks)
    curve = pd.read_csv(outputs["gd_curve"])
    assert {"step", "start", "K", "loss", "closed_form_loss"} <= set(curve.columns)
    assert len(curve) == 2 * 400
    k = pd.read_csv(outputs["k_sweep"])
    assert list(k["K"]) == list(range(1, 7))
    for key in ("figure_gd", "figure_k"):
        assert outputs[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "checks, 0 failed" in lines[-1]
    assert "N < dim phi: N=4, dim phi=6" in on_disk["setting"].str.cat(sep="\n")


def test_unknown_params_are_refused():
    with pytest.raises(ValueError, match="unknown q3 parameter"):
        q3_checks.settle_params({"sede": 1})


@pytest.mark.parametrize("features, expected", [
    (["bmi", "bp", "s5", "s1"], 10),  # dim phi 15: the default fits
    (["bmi", "bp"], 5),               # dim phi 6
    (["bmi"], 2),                     # dim phi 3
])
def test_rank_deficient_samples_left_unset_adapts_to_the_features(features, expected):
    assert q3_checks.settle_params({"gd_features": features})["rank_deficient_samples"] == expected


@pytest.mark.parametrize("samples", [0, 6, 11])
def test_rank_deficient_samples_set_out_of_range_names_the_key_and_the_range(samples):
    with pytest.raises(ValueError, match=r"rank_deficient_samples = \d+ is out of range.*dim phi = 6.*"
                                         r"1 <= rank_deficient_samples <= 5"):
        q3_checks.settle_params({"gd_features": ["bmi", "bp"], "rank_deficient_samples": samples})


def test_settled_params_settle_to_themselves():
    settled = q3_checks.settle_params({"gd_features": ["bmi", "bp"]})
    assert q3_checks.settle_params(settled) == settled


def test_checking_the_settings_loads_neither_torch_nor_matplotlib():
    # the workflow settles these params when it starts: that must stay cheap
    code = ("import sys; from homework1.q3_checks import settle_params; settle_params({}); "
            "print(sorted({'torch', 'matplotlib'} & set(sys.modules)))")
    source = Path(q3_checks.__file__).parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(source)})
    assert done.stdout.strip() == "[]"


def test_entry_script_has_no_future_import():
    # Snakemake's script: directive prepends a preamble, after which a __future__ import is a SyntaxError
    source = (Path(__file__).resolve().parents[1] / "scripts" / "q3_checks.py").read_text()
    assert "from __future__" not in source
