"""Every model is declared once: a ``SPEC = ModelSpec(...)`` in its own module of ``homework1/<question>/models/``,
beside its ``build``; the hyper-parameters a run passes, its inputs, training steps, metrics, figures and
benchmark family all derive from it. The workflow reads the specs with ``ast`` before any job (so their
arguments are literals, and no numpy or torch is loaded); a job imports the module. Standard library only."""

from __future__ import annotations

import ast
import csv
import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the package folder, above this layer
QUESTIONS = ("q1", "q2")

# How a model takes an example: "flat", the course's vector of pixel / 256 (and the bias
# 1 last, where the spec asks for one); "image", the pixels / 256 as (channels, height, width).
INPUTS = ("flat", "image")
# The training steps, by the name a run's summary records (``training_step``). Q1: the
# compiled kernels (fast) or the numpy classes (reference); Q2: the step fused by hand (fast,
# CPU), the CUDA graph (fast, NVIDIA GPU) or autograd (reference, and every device).
NUMBA_KERNELS, NUMPY_CLASSES = "numba kernels", "numpy classes"
FUSED, CUDA_GRAPH, AUTOGRAD = "fused", "cuda_graph", "autograd"
STEP_NAMES = {"q1": (NUMBA_KERNELS, NUMPY_CLASSES), "q2": (FUSED, CUDA_GRAPH, AUTOGRAD)}
# The reference step of each question: it trains every model.
REFERENCE_STEPS = {"q1": NUMPY_CLASSES, "q2": AUTOGRAD}
# The hyper-parameters each question's trainer reads of every model (q1/train.py, q2/train.py): every
# spec of the question must list them.
TRAINER_HPARAMS = {"q1": ("epochs",), "q2": ("epochs", "batch_size", "learning_rate", "momentum", "weight_decay")}
# Per-epoch metrics a model may record beyond what its question records for every model
# (computed by the question's trainer: ``q1.train.EPOCH_METRICS``).
EXTRA_METRICS = ("weight_norm", "zero_weight_fraction")


@dataclass(frozen=True)
class ModelSpec:
    """What the workflow, the trainers and the benchmark need to know of one model."""

    question: str                     # "q1" (numpy) or "q2" (torch)
    name: str                         # the config's ``model:``, and the module's name
    hparams: tuple[str, ...]          # the hyper-parameters it uses, in the order they name a sweep's variants
    architecture: tuple[str, ...] = ()  # those of ``hparams`` its ``build`` takes
    inputs: str = "flat"              # one of INPUTS
    bias: bool = False                # "flat" only: a constant 1 feature appended
    steps: tuple[str, ...] = ()       # the steps of STEP_NAMES that can train it; the reference step always can
    metrics: tuple[str, ...] = ()     # extra per-epoch metrics it records (EXTRA_METRICS)
    figures: tuple[str, ...] = ()     # the question's figures (``FIGURES``) its runs are drawn in

    def __post_init__(self):
        for name in ("hparams", "architecture", "steps", "metrics", "figures"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = self.problems()
        if problems:
            raise ValueError(f"the spec of {self.question} model {self.name!r}: " + "; ".join(problems))

    @property
    def training_hparams(self) -> tuple[str, ...]:
        """The hyper-parameters its training step takes: all but the epochs and the architecture."""
        return tuple(name for name in self.hparams if name != "epochs" and name not in self.architecture)

    def trains_with(self, step: str) -> bool:
        return step == REFERENCE_STEPS[self.question] or step in self.steps

    def problems(self) -> list[str]:
        if self.question not in QUESTIONS:
            return [f"question must be one of {', '.join(QUESTIONS)}"]
        problems = []
        if missing := [name for name in TRAINER_HPARAMS[self.question] if name not in self.hparams]:
            problems.append(f"hparams must include {', '.join(missing)}: the {self.question} trainer reads "
                            f"{', '.join(TRAINER_HPARAMS[self.question])} of every model")
        if extra := sorted(set(self.architecture) - set(self.hparams)):
            problems.append(f"architecture {extra} not among its hparams")
        if self.inputs not in INPUTS:
            problems.append(f"inputs must be one of {', '.join(INPUTS)}")
        if self.bias and self.inputs != "flat":
            problems.append("only flat inputs take a bias feature")
        if unknown := sorted(set(self.steps) - set(STEP_NAMES[self.question])):
            problems.append(f"unknown steps {unknown}; {self.question} has {', '.join(STEP_NAMES[self.question])}")
        if unknown := sorted(set(self.metrics) - set(EXTRA_METRICS)):
            problems.append(f"unknown metrics {unknown}; expected some of {', '.join(EXTRA_METRICS)}")
        if unknown := sorted(set(self.figures) - set(FIGURES)):
            problems.append(f"unknown figures {unknown}; expected some of {', '.join(FIGURES)}")
        for figure in self.figures:
            if FIGURES[figure].question != self.question or FIGURES[figure].metric not in (
                    *self.metrics, "train_loss"):
                problems.append(f"figure {figure} draws {FIGURES[figure].question} runs' "
                                f"{FIGURES[figure].metric}, which this model does not record")
        return problems


@dataclass(frozen=True)
class FigureSpec:
    """A figure of a question over every run of the models whose spec names it:
    ``results/figures/{dataset}/{question}/{name}.png``, drawn by ``figures.<name>``."""

    question: str
    metric: str        # the per-epoch column it draws
    report_id: str     # the homework's item
    title: str         # its heading in report.md
    caption: str       # what it shows, in the HTML report; {question/experiment/variant/metric}: a report value


# The one list of the questions' figures over several configurations (the per-run curves and
# the sweep overlays come with every configuration and sweep).
FIGURES = {
    "weight_norm": FigureSpec(
        "q1", "weight_norm", "1.2c", "norm of W per epoch",
        "Question 1.2c: the Frobenius norm of the logistic regression's weights after every epoch, one panel "
        "per configuration side by side. The report: unregularised it keeps growing (to about "
        "{q1/logreg/default/final_weight_norm} on its data), with L2 = 0.01 it levels off (about "
        "{q1/logreg_l2/default/final_weight_norm}) after some 20 epochs."),
    "sparsity": FigureSpec(
        "q1", "zero_weight_fraction", "1.2d", "L1 gives exactly-zero weights, L2 small dense ones",
        "Question 1.2d, which the report answers in words: the fraction of weights that are exactly zero after "
        "every epoch. The L1 penalty (a soft-threshold step) makes weights exactly zero; L2 shrinks them but "
        "leaves them dense. Pixels that are constant zero in every image keep zero weights in every run."),
    "mlp_loss": FigureSpec(
        "q1", "train_loss", "1.3a", "MLP training loss per epoch",
        "Question 1.3a: the MLP's mean training cross-entropy per epoch (each example's loss taken before "
        "its update)."),
}


def figure_caption(figure: str, report_numbers) -> str:
    """The caption of ``FIGURES[figure]`` with the report's values it cites filled in from
    ``report_numbers`` (config/report_numbers.csv)."""
    with open(report_numbers, newline="", encoding="utf-8") as handle:
        values = {"/".join(row[key] for key in ("question", "experiment", "variant", "metric")): row["report_value"]
                  for row in csv.DictReader(handle)}
    try:
        return FIGURES[figure].caption.format_map(values)
    except KeyError as missing:
        raise ValueError(f"{report_numbers}: no report value {missing}, which the caption of figure {figure} "
                         f"cites") from None


# ---------------------------------------------------------------- reading the specs


class SpecError(ValueError):
    """A model module's spec is missing or cannot be read without running the module."""


def models_package(question: str) -> Path:
    return PACKAGE / question / "models"


def module_name(question: str, model: str) -> str:
    return f"homework1.{question}.models.{model}"


def read_spec(path: Path) -> ModelSpec | None:
    """The ``SPEC = ModelSpec(...)`` of one module's source, read without running it (None
    where the module declares none: a helper the models share)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["SPEC"]):
            call = node.value
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "ModelSpec") or call.args:
                raise SpecError(f"{path}: SPEC must be ModelSpec(...) called with keyword arguments only")
            arguments = {}
            for keyword in call.keywords:
                try:
                    arguments[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    raise SpecError(f"{path}: ModelSpec's {keyword.arg} must be a literal (the workflow reads "
                                    f"it without running the module), got {ast.unparse(keyword.value)}") from None
            try:
                spec = ModelSpec(**arguments)
            except (TypeError, ValueError) as err:
                raise SpecError(f"{path}: {err}") from None
            if (spec.question, spec.name) != (path.parent.parent.name, path.stem):
                raise SpecError(f"{path}: declares {spec.question} model {spec.name!r}; a module of "
                                f"{path.parent.parent.name}/models/ declares the model named after the module "
                                f"({path.parent.parent.name}, {path.stem!r})")
            return spec
    return None


@cache
def model_specs() -> dict[tuple[str, str], ModelSpec]:
    """{(question, model): spec} of every model module, read from the source."""
    specs = {}
    for question in QUESTIONS:
        for path in sorted(models_package(question).glob("*.py")):
            if not path.name.startswith("_") and (spec := read_spec(path)) is not None:
                specs[(question, spec.name)] = spec
    return specs


def model_spec(question: str, model: str) -> ModelSpec:
    specs = model_specs()
    if (question, model) not in specs:
        known = [name for q, name in specs if q == question]
        raise ValueError(f"unknown model {model!r} of {question}; expected one of {', '.join(known)} "
                         f"(a model is a module of src/homework1/{question}/models/ with a SPEC)")
    return specs[(question, model)]


def load_model(question: str, model: str):
    """The model's module, imported (its ``SPEC`` and its ``build``)."""
    model_spec(question, model)  # a clear error for an unknown name
    return importlib.import_module(module_name(question, model))
