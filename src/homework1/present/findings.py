"""What the study found, a sentence each, written from its tables: what opens report.md and the HTML report.

- each question's main result (the best and the worst configuration of Questions 1 and 2 by test
  accuracy, Question 3's checks);
- each sweep's selected variant against the one the report chose (its best on the same metric);
- each claim's verdict with its interval;
- what differs from the report, grouped by the likely reason: another data set, too few seeds,
  run times of another machine (or of runs that shared cores), a difference beyond seed spread.
"""

from __future__ import annotations

import re

import pandas as pd

from homework1.analysis.tables import readable_number

QUESTION_NAMES = {"q1": "Question 1 (numpy)", "q2": "Question 2 (PyTorch)"}
# Reproduction verdicts that say our number agrees with the report's.
AGREES = ("matches", "within seed spread")


def _configuration(row) -> str:
    return row["experiment"] if row["variant"] == "default" else f"{row['experiment']} {row['variant']}"


def _seeds(count) -> str:
    count = int(count)
    return f"{count} seed{'s' * (count != 1)}"


def question_results(by_config: pd.DataFrame) -> list[str]:
    """Per question: the configurations with the highest and the lowest mean test accuracy."""
    sentences = []
    for question, name in QUESTION_NAMES.items():
        rows = by_config[(by_config["question"] == question) & by_config["test_acc_mean"].notna()]
        if rows.empty:
            continue
        best, worst = rows.loc[rows["test_acc_mean"].idxmax()], rows.loc[rows["test_acc_mean"].idxmin()]
        sentence = (f"{name}: the highest test accuracy is {_configuration(best)}'s, "
                    f"{readable_number(best['test_acc_mean'])} ({_seeds(best['test_acc_count'])})")
        if worst["test_acc_mean"] < best["test_acc_mean"]:
            sentence += f"; the lowest {_configuration(worst)}'s, {readable_number(worst['test_acc_mean'])}"
        sentences.append(sentence + ".")
    return sentences


def q3_result(q3_checks: pd.DataFrame, link: str) -> str:
    passed = int(q3_checks["passed"].sum())
    failed = q3_checks[~q3_checks["passed"].astype(bool)]
    return (f"Question 3: {passed} of {len(q3_checks)} numerical checks of the theory pass ([all of them]({link}))"
            + (f"; failing: {'; '.join(f'{row.claim} ({row.setting})' for row in failed.itertuples())}."
               if len(failed) else "."))


def selections(chosen: dict[str, pd.DataFrame], reproduction: pd.DataFrame) -> list[str]:
    """Per sweep: the variant we select (by mean validation accuracy) against the report's best on the same
    metric, where the report gives that metric for two variants or more."""
    sentences = []
    for name, table in chosen.items():
        question, experiment = name.split("/", 1)
        ours = table[table["selected"].astype(bool)].iloc[0]
        metric = str(ours["selected_by"]).split()[1] if len(str(ours["selected_by"]).split()) > 1 else "final_val_acc"
        given = reproduction[(reproduction["question"] == question) & (reproduction["experiment"] == experiment)
                             & (reproduction["metric"] == metric)]
        sentence = f"{experiment}: we select {ours['variant']} (mean {metric} {readable_number(ours[f'{metric}_mean'])}"
        if pd.notna(ours.get("best_in_resamples")):
            sentence += f", best in {ours['best_in_resamples']:.0%} of seed resamples"
        sentence += ")"
        if given["variant"].nunique() >= 2:
            theirs = given.loc[given["report_value"].idxmax()]
            agree = "as" if theirs["variant"] == ours["variant"] else "where"
            sentence += f", {agree} the report chose {theirs['variant']} ({readable_number(theirs['report_value'])})"
        sentences.append(sentence + ".")
    return sentences


def claim_verdicts(claims: pd.DataFrame) -> list[str]:
    """Each claim: its verdict, the mean paired difference and its interval, on how many pairs."""
    sentences = []
    for claim in claims.to_dict("records"):
        sentence = f"{claim['report_id']} \"{claim['claim']}\": **{claim['verdict']}**"
        if pd.notna(claim.get("mean_difference")):
            sentence += f", difference {readable_number(claim['mean_difference'])}"
            if pd.notna(claim.get("low")):
                sentence += f" (interval {readable_number(claim['low'])} to {readable_number(claim['high'])})"
            sentence += f" on {int(claim['n_pairs'])} paired seed{'s' * (int(claim['n_pairs']) != 1)}"
        sentences.append(sentence + ".")
    return sentences


def _reason(row) -> str:
    if row["verdict"] == "not run" or row["verdict"] == "no value":
        return "not run or no value here"
    if not row["comparable"] and row["kind"] != "timing":
        return f"another data set ({row['dataset']}): accuracies not comparable"
    if row["kind"] == "timing":
        shared = str(row.get("cores", "")).startswith("shared")
        return "run times of another machine" + (", and our runs shared cores" if shared else "")
    if int(row["n_seeds"]) < 2:
        return "one seed: too few to tell a difference from seed noise"
    return "beyond our seed spread: a true difference"


def differences(reproduction: pd.DataFrame) -> list[str]:
    """How many of the report's numbers ours agree with, and those that do not, grouped by the likely reason."""
    agree = reproduction["verdict"].isin(AGREES)
    sentences = [f"Of the report's {len(reproduction)} numbers, ours agree with {int(agree.sum())} "
                 f"(matching, or within our seed spread)."]
    other = reproduction[~agree]
    for reason, rows in other.groupby(other.apply(_reason, axis=1), sort=False):
        ids = ", ".join(dict.fromkeys(rows["report_id"]))
        sentences.append(f"{len(rows)} {'does' if len(rows) == 1 else 'do'} not ({ids}); likely reason: {reason}.")
    return sentences


def findings(*, by_config: pd.DataFrame, reproduction: pd.DataFrame, claims: pd.DataFrame,
             chosen: dict[str, pd.DataFrame], q3_checks: pd.DataFrame, q3_link: str) -> dict[str, list[str]]:
    """The findings by heading, a sentence each."""
    return {
        "Main results": [*question_results(by_config), q3_result(q3_checks, q3_link)],
        "Selected against the report's choice": selections(chosen, reproduction),
        "The report's claims": claim_verdicts(claims),
        "Where we differ from the report": differences(reproduction),
    }


def as_markdown(found: dict[str, list[str]], level: int = 2) -> str:
    """The findings as a Markdown section: a heading, and a list per group."""
    lines = [f"{'#' * level} Findings\n"]
    for heading, sentences in found.items():
        if sentences:
            lines += [f"**{heading}.**\n", *(f"- {sentence}" for sentence in sentences), ""]
    return "\n".join(lines) + "\n"


MARKDOWN_LINK = re.compile(r"\[([^]]*)\]\([^)]*\)")


def as_rst(found: dict[str, list[str]]) -> str:
    """The findings as reStructuredText (the HTML report's caption): links left as their text."""
    lines = []
    for heading, sentences in found.items():
        if sentences:
            lines += [f"**{heading}.**", "", *("- " + MARKDOWN_LINK.sub(r"\1", sentence) for sentence in sentences), ""]
    return "\n".join(lines) + "\n"
