"""What a study builds, from its validated configuration: its runs, the runs of its looks under
``settle``, its sweeps and its figures. The workflow's input functions and the benchmark's estimate
both plan from here. Standard library only."""

from __future__ import annotations

from collections.abc import Callable

from homework1.plan import claims as claim_plan
from homework1.plan import specs
from homework1.plan.study import QUESTIONS, expand_runs, run_files, run_path


def run_benchmark(run: str) -> str:
    """The benchmark file Snakemake writes for a run's training job (the rules' benchmark:)."""
    return f"benchmarks/runs/{run}.tsv"


class Study:
    """A validated ``config`` and the report's ``claims``. ``decisions(look)`` gives the path of a
    look's decisions table, once that look has run (the workflow: its checkpoint); without it every
    testable claim stays open, so the looks train the most they can (the benchmark's estimate)."""

    def __init__(self, config: dict, claims: list[dict], decisions: Callable[[int], str] | None = None):
        self.config, self.claims, self.decisions = config, claims, decisions
        self.dataset, self.seeds, self.looks = config["dataset"], config["seeds"], config["settle"]["looks"]
        # {question: {experiment: {variant: hyper-parameters}}}; every list value is a sweep
        self.runs = expand_runs(config)
        self.testable = [claim_plan.testable(claim, self.runs) for claim in claims]

    def run(self, question: str, experiment: str, variant: str, seed: int, dataset: str | None = None) -> str:
        return run_path(dataset=dataset or self.dataset, question=question, experiment=experiment, variant=variant,
                        seed=seed)

    def hparams(self, question: str, experiment: str, variant: str) -> dict:
        """The hyper-parameters of one configured run (its model among them)."""
        try:
            return self.runs[question][experiment][variant]
        except KeyError:
            raise ValueError(f"no configured run {question}/{experiment}/{variant}; "
                             f"see the {question}: section of config/config.yaml") from None

    def run_settings(self, question: str, experiment: str, variant: str, seed, dataset: str) -> dict:
        """What a run's summary records of its settings (its data set's checksum aside): what it must hold
        to be this run as configured now (homework1.core.run_checks.settings_differ)."""
        hparams = dict(self.hparams(question, experiment, variant))
        return {"model": hparams.pop("model"), "hparams": hparams, "seed": int(seed), "dataset": dataset,
                "implementation": self.config["implementation"]}

    def configured_runs(self, questions=QUESTIONS) -> list[str]:
        """Every configured run of ``questions``: each variant of each experiment, at every seed."""
        return [self.run(question, experiment, variant, seed)
                for question in questions
                for experiment, variants in self.runs[question].items()
                for variant in variants
                for seed in self.seeds]

    def run_outputs(self, kind: str, questions=QUESTIONS) -> list[str]:
        """One kind of per-run file (metrics.csv, summary.json) of every configured run."""
        return run_files(self.configured_runs(questions), kind)

    # ------------------------------------------------------------ settling the claims

    def testable_claims(self) -> list[dict]:
        return [claim for claim, can_test in zip(self.claims, self.testable) if can_test]

    def look_claims(self, look: int) -> list[dict]:
        """The claims look ``look`` trains: every testable one at the first look, then those the
        previous look left open."""
        if look == 1 or self.decisions is None:
            return self.testable_claims()
        return claim_plan.open_claims(self.decisions(look - 1), self.testable_claims())

    def look_runs(self, look: int) -> list[str]:
        """The runs look ``look`` trains: its seeds (cumulative) of every configuration its claims compare."""
        return [self.run(question, experiment, variant, seed)
                for question, experiment, variant in claim_plan.configurations(self.look_claims(look))
                for seed in claim_plan.look_seeds(self.seeds, self.looks[look - 1])]

    def runs_so_far(self, look: int) -> list[str]:
        """Every run the looks up to ``look`` train, each once."""
        return list(dict.fromkeys(run for earlier in range(1, look + 1) for run in self.look_runs(earlier)))

    def runs_at_last_look(self) -> int:
        """How many runs the claims' configurations would take, every one at the last look's seeds:
        what settling saves runs against (0: off)."""
        return len(claim_plan.configurations(self.testable_claims())) * (self.looks[-1] if self.looks else 0)

    def study_runs(self) -> list[str]:
        """Every run of the study, each once: the configured ones, then those its looks train."""
        return list(dict.fromkeys(self.configured_runs() + self.runs_so_far(len(self.looks))))

    def run_benchmarks(self, wildcards=None) -> list[str]:
        """The benchmark file of every training job of the study (an input function)."""
        return [run_benchmark(run) for run in self.study_runs()]

    # ------------------------------------------------------------ sweeps and figures

    def configuration_runs(self, dataset: str, question: str, experiment: str, variant: str | None = None) -> list[str]:
        """Every seed's run of one configuration (or of every variant of a sweep)."""
        variants = [variant] if variant else self.runs[question][experiment]
        return [self.run(question, experiment, name, seed, dataset) for name in variants for seed in self.seeds]

    def swept_experiments(self) -> list[tuple[str, str]]:
        """(question, experiment) of every configured sweep: each gets a selection table and an overlay."""
        return [(question, experiment)
                for question, experiments in self.runs.items()
                for experiment, variants in experiments.items()
                if len(variants) > 1]

    def figure_experiments(self, question: str, figure: str) -> list[str]:
        """The experiments whose model's spec draws its runs in one of the question's figures."""
        return [experiment for experiment, settings in self.config[question].items()
                if figure in specs.model_spec(question, settings["model"]).figures]

    def figure_runs(self, wildcards) -> list[str]:
        """The runs drawn in a question's figure (specs.FIGURES), named by the wildcards dataset, question
        and figure."""
        return [run for experiment in self.figure_experiments(wildcards.question, wildcards.figure)
                for run in self.configuration_runs(wildcards.dataset, wildcards.question, experiment)]

    def question_figures(self) -> list[str]:
        """The questions' figures that a configured model's runs are drawn in (question/name)."""
        return [f"{figure.question}/{name}" for name, figure in specs.FIGURES.items()
                if self.figure_experiments(figure.question, name)]

    def figure_stems(self) -> list[str]:
        """Every figure of the runs, by its path below results/figures/{dataset}/ without extension."""
        stems = [f"{question}/{experiment}/{variant}"
                 for question, experiments in self.runs.items()
                 for experiment, variants in experiments.items()
                 for variant in variants]
        stems += [f"{question}/{experiment}_overlay" for question, experiment in self.swept_experiments()]
        return stems + self.question_figures() + ["seed_comparisons"]

    def figure_targets(self, ext=("png", "pdf")) -> list[str]:
        return [f"results/figures/{self.dataset}/{stem}.{e}" for stem in self.figure_stems() for e in ext]
