"""Q2's PyTorch models and training loop, on tiny real tensors.

The whole-run tests run on the CPU, and again on CUDA where the machine has it.
"""

import json
import math

import pytest
import torch
from torch import nn

from conftest import IMPLEMENTATIONS, N_CLASSES, N_FEATURES, needs_cuda, quiet, torch_splits
from homework1 import q2
from homework1.core.runs import STATUS_DIVERGED, STATUS_OK
from homework1.core.stopping import StopRequested

make_splits = torch_splits


def comparable(result):
    """Everything a run reports except its timings."""
    history = [{k: v for k, v in row.items() if k != "epoch_time_s"} for row in result.history]
    return history, result.test_acc, result.status


# Where whole runs are tested: always the CPU, and CUDA too where this machine has it.
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
on_every_device = pytest.mark.parametrize("device", DEVICES)
# A small FFN run: its hyper-parameters, then how the run is made.
FFN = dict(epochs=4, batch_size=32, learning_rate=0.05, weight_decay=0.0, momentum=0.9, dropout=0.3,
           hidden_size=16, layers=2, seed=42, device="cpu", implementation="fast", full_train_accuracy=False,
           log=quiet)
LOGREG = {key: value for key, value in FFN.items() if key not in ("dropout", "hidden_size", "layers")}


# ----------------------------------------------------------------------------- models, optimizer, device

def test_ffn_structure_follows_layers_hidden_size_and_dropout():
    model = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=200, layers=2, dropout=0.3)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    assert [(m.in_features, m.out_features) for m in linears] == [(N_FEATURES, 200), (200, 200), (200, 3)]
    assert len(dropouts) == 2 and all(m.p == 0.3 for m in dropouts)
    assert len(relus) == 2
    # dropout follows each hidden layer's activation, never the output layer
    assert isinstance(model[-1], nn.Linear) and isinstance(model[2], nn.Dropout)

    deeper = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=8, layers=3, dropout=0.5)
    assert sum(isinstance(m, nn.Linear) for m in deeper.modules()) == 4
    assert [m.p for m in deeper.modules() if isinstance(m, nn.Dropout)] == [0.5, 0.5, 0.5]


def test_logreg_is_one_linear_layer_without_dropout():
    model = q2.build_model("logreg", N_FEATURES, N_CLASSES)
    assert [type(m) for m in model.modules()] == [nn.Linear]
    assert (model.in_features, model.out_features) == (N_FEATURES, 3)
    assert model(torch.zeros(5, N_FEATURES)).shape == (5, 3)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="unknown model"):
        q2.build_model("cnn", N_FEATURES, N_CLASSES)
    with pytest.raises(ValueError, match="unknown model"):
        q2.train("cnn", make_splits(), **FFN)
    with pytest.raises(ValueError, match="logreg uses .*; takes no dropout, hidden_size, layers"):
        q2.train("logreg", make_splits(), **FFN)
    with pytest.raises(ValueError, match="unknown implementation 'compiled'"):
        q2.train("logreg", make_splits(), **dict(LOGREG, implementation="compiled"))


def test_optimizer_gets_momentum_and_weight_decay():
    model = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=8, layers=2, dropout=0.3)
    optimizer = q2.make_optimizer(model, q2.SGD(learning_rate=0.002, momentum=0.9, weight_decay=0.01))
    assert isinstance(optimizer, torch.optim.SGD)
    (group,) = optimizer.param_groups
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.002, 0.9, 0.01)
    assert len(group["params"]) == len(list(model.parameters()))


def test_train_uses_momentum_and_weight_decay():
    splits = make_splits()
    base = dict(FFN, momentum=0.0, weight_decay=0.0, epochs=2)
    plain = comparable(q2.train("ffn", splits, **base))
    assert comparable(q2.train("ffn", splits, **dict(base, momentum=0.9))) != plain
    assert comparable(q2.train("ffn", splits, **dict(base, weight_decay=0.1))) != plain


def test_resolve_device_cpu_and_bad_names():
    assert q2.resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError):
        q2.resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_resolve_device_asking_for_missing_cuda_is_a_clear_error():
    for name in ("cuda", "cuda:1"):
        with pytest.raises(RuntimeError, match="no CUDA device"):
            q2.resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(),
                    reason="this machine has an accelerator")
def test_resolve_device_auto_falls_back_to_cpu():
    assert q2.resolve_device("auto") == torch.device("cpu")


# ----------------------------------------------------------------------------- batches, one epoch, evaluation

@pytest.mark.parametrize("n, batch_size", [(200, 32), (64, 64), (10, 3), (5, 100)])
def test_batches_cover_every_example_exactly_once(n, batch_size):
    generator = torch.Generator().manual_seed(1)
    for _ in range(2):  # two epochs: two different orders, each complete
        batches = q2.batch_indices(n, batch_size, generator, "cpu")
        assert all(len(b) == batch_size for b in batches[:-1])
        assert 1 <= len(batches[-1]) <= batch_size
        assert torch.equal(torch.cat(batches).sort().values, torch.arange(n))


def test_batch_order_is_seeded_and_changes_between_epochs():
    first = torch.cat(q2.batch_indices(100, 16, torch.Generator().manual_seed(7)))
    again = torch.cat(q2.batch_indices(100, 16, torch.Generator().manual_seed(7)))
    assert torch.equal(first, again)
    generator = torch.Generator().manual_seed(7)
    epoch1, epoch2 = (torch.cat(q2.batch_indices(100, 16, generator)) for _ in range(2))
    assert not torch.equal(epoch1, epoch2)
    assert not torch.equal(first, torch.arange(100))


def test_epoch_loss_is_weighted_by_batch_size():
    # lr 0 and no dropout: every batch sees the same model, so the weighted mean of
    # the batch losses is the mean loss over the whole set (200 = 6 x 32 + 8: an
    # unweighted mean of batch means would differ).
    data = q2.to_tensors(make_splits(), torch.device("cpu"))
    X, y = data["train"]
    torch.manual_seed(0)
    model = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=16, layers=2, dropout=0.0)
    optimizer = q2.make_optimizer(model, q2.SGD(0.0, 0.0, 0.0))
    stats = q2.train_epoch(model, optimizer, X, y, 32, torch.Generator().manual_seed(0))
    full_loss, _ = q2.evaluate(model, X, y)
    assert stats.diverged_batch is None
    assert stats.train_loss == pytest.approx(full_loss, rel=1e-5)


def test_evaluate_in_chunks_matches_one_pass():
    data = q2.to_tensors(make_splits(), torch.device("cpu"))
    X, y = data["train"]
    torch.manual_seed(0)
    model = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=16, layers=2, dropout=0.3)
    whole = q2.evaluate(model, X, y, chunk=1000)
    chunked = q2.evaluate(model, X, y, chunk=7)
    assert chunked[0] == pytest.approx(whole[0], rel=1e-6) and chunked[1] == whole[1]
    assert not model.training  # evaluation switches dropout off


# ----------------------------------------------------------------------------- whole runs

@on_every_device
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("full_train_accuracy", [False, True])
def test_history_and_result_fields(device, implementation, full_train_accuracy):
    lines = []
    result = q2.train("ffn", make_splits(), **dict(FFN, epochs=3, log=lines.append, device=device,
                                                   implementation=implementation,
                                                   full_train_accuracy=full_train_accuracy))
    assert result.status == STATUS_OK and result.device == device
    assert result.extra["implementation"] == implementation
    fast_steps = {("cpu", "fast"): "fused", ("cuda", "fast"): "cuda_graph"}
    assert result.extra["training_step"] == fast_steps.get((device, implementation), "autograd")
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    for row in result.history:
        assert set(row) == {"epoch", "train_loss", "train_acc_running", "val_loss", "val_acc", "epoch_time_s"} | (
            {"train_acc"} if full_train_accuracy else set())
        assert all(math.isfinite(v) for v in row.values())
        assert 0.0 <= row["val_acc"] <= 1.0 and 0.0 <= row["train_acc_running"] <= 1.0
        assert 0.0 <= row.get("train_acc", 0.0) <= 1.0
    assert 0.0 <= result.test_acc <= 1.0 and result.wall_time_s > 0
    epoch_lines = [line for line in lines if "epoch" in line and "val acc" in line]
    assert len(epoch_lines) == 3 and "train loss" in epoch_lines[0]


@on_every_device
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("model_name", ["logreg", "ffn"])
def test_learns_an_easy_separable_problem(model_name, device, implementation):
    settings = FFN if model_name == "ffn" else LOGREG
    result = q2.train(model_name, make_splits(), **dict(settings, epochs=25, device=device,
                                                        implementation=implementation, full_train_accuracy=True))
    assert result.history[-1]["train_acc"] >= 0.95 and result.history[-1]["train_acc_running"] >= 0.9
    assert result.test_acc >= 0.9
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


@on_every_device
def test_same_seed_same_numbers_other_seed_other_numbers(device):
    splits = make_splits()
    first = comparable(q2.train("ffn", splits, **dict(FFN, seed=3, device=device)))
    second = comparable(q2.train("ffn", splits, **dict(FFN, seed=3, device=device)))
    assert first == second
    assert comparable(q2.train("ffn", splits, **dict(FFN, seed=4, device=device))) != first


def test_threads_are_set_when_given():
    before = torch.get_num_threads()
    asked = 2 if before == 1 else 1  # another number than now: the test fails if threads are ignored
    try:
        q2.train("logreg", make_splits(), **dict(LOGREG, epochs=1), threads=asked)
        assert torch.get_num_threads() == asked
    finally:
        torch.set_num_threads(before)


class Killed(Exception):
    """Stands in for the job being killed mid-run."""


def kill_at_epoch(epoch, lines):
    def log(line):
        lines.append(line)
        if line.startswith(f"ffn epoch {epoch}/"):
            raise Killed
    return log


@on_every_device
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_resumed_run_ends_with_the_uninterrupted_numbers(tmp_path, device, implementation):
    splits = make_splits()
    # momentum and dropout: optimizer and RNG state both matter
    settings = dict(FFN, epochs=5, device=device, implementation=implementation)
    uninterrupted = q2.train("ffn", splits, **settings)

    checkpoint = tmp_path / "run.ckpt"
    lines = []
    with pytest.raises(Killed):
        q2.train("ffn", splits, **dict(settings, log=kill_at_epoch(3, lines)),
                 checkpoint=q2.Checkpointing(checkpoint, every=2, keep=False))
    assert checkpoint.exists()  # written after epoch 2, before the kill in epoch 3

    lines = []
    resumed = q2.train("ffn", splits, **dict(settings, log=lines.append),
                       checkpoint=q2.Checkpointing(checkpoint, every=2, keep=False))
    assert any("resumed" in line and "epoch 2" in line for line in lines)
    assert sum(line.startswith("ffn epoch") for line in lines) == 3  # epochs 3, 4, 5 only
    assert resumed.extra["resumed_from_epoch"] == 2
    assert comparable(resumed) == comparable(uninterrupted)
    assert not checkpoint.exists()  # removed once the run is complete


@on_every_device
def test_kept_checkpoint_lets_a_longer_run_continue(tmp_path, device):
    splits = make_splits()
    checkpoint = tmp_path / "run.ckpt"
    long_run = q2.train("ffn", splits, **dict(FFN, epochs=5, device=device))
    q2.train("ffn", splits, **dict(FFN, epochs=3, device=device),
             checkpoint=q2.Checkpointing(checkpoint, every=10, keep=True))
    assert checkpoint.exists()
    continued = q2.train("ffn", splits, **dict(FFN, epochs=5, device=device),
                         checkpoint=q2.Checkpointing(checkpoint, every=10, keep=False))
    assert continued.extra["resumed_from_epoch"] == 3
    assert comparable(continued) == comparable(long_run)


@on_every_device
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("learning_rate, momentum, first_bad_epoch", [
    (1e6, 0.0, 1),   # blows up at once
    # Momentum above 1 amplifies every step, so the run blows up after a few
    # epochs whatever the dropout masks (seen at epochs 3 to 6 over ten seeds).
    (0.05, 3.0, 2),
])
def test_divergence_stops_the_run_without_raising(learning_rate, momentum, first_bad_epoch, tmp_path, device,
                                                  implementation):
    splits = make_splits()
    checkpoint = tmp_path / "run.ckpt"
    lines = []
    result = q2.train("ffn", splits, **dict(FFN, epochs=20, learning_rate=learning_rate, momentum=momentum,
                                            log=lines.append, device=device, implementation=implementation),
                      checkpoint=q2.Checkpointing(checkpoint, every=1, keep=False))
    assert result.status == STATUS_DIVERGED and result.test_acc is None
    epoch, batch = (int(word.strip(",")) for word in result.message.split() if word.strip(",").isdigit())
    assert first_bad_epoch <= epoch < 20 and batch >= 1
    assert len(result.history) == epoch - 1  # only the epochs that finished
    assert all(math.isfinite(row["train_loss"]) for row in result.history)
    assert any("diverged" in line for line in lines)
    assert not checkpoint.exists()
    # the same run with a sane rate and no momentum stays finite: those are what blew up
    assert q2.train("ffn", splits, **dict(FFN, epochs=2, momentum=0.0, device=device)).status == STATUS_OK


def test_divergence_found_at_end_of_epoch_names_the_same_batch():
    # The accelerator path (one check per epoch) must report what the per-batch check does.
    data = q2.to_tensors(make_splits(), torch.device("cpu"))
    X, y = data["train"]
    found = []
    for check_each_batch in (True, False):
        torch.manual_seed(0)
        model = q2.build_model("ffn", N_FEATURES, N_CLASSES, hidden_size=16, layers=2, dropout=0.3)
        optimizer = q2.make_optimizer(model, q2.SGD(1e6, 0.0, 0.0))
        stats = q2.train_epoch(model, optimizer, X, y, 32, torch.Generator().manual_seed(0),
                               check_each_batch=check_each_batch)
        found.append(stats)
    assert found[0].diverged_batch is not None and math.isnan(found[0].train_loss)
    assert found[0].diverged_batch == found[1].diverged_batch


# ----------------------------------------------------------------------------- CUDA only

@needs_cuda
def test_auto_picks_cuda_when_present():
    assert q2.resolve_device("auto") == torch.device("cuda")
    assert q2.train("logreg", make_splits(), **dict(LOGREG, epochs=1, device="auto")).device == "cuda"


@needs_cuda
def test_cuda_and_cpu_agree_when_no_dropout_is_drawn():
    # Dropout masks come from each device's own generator; without dropout the
    # two devices compute the same function from the same initial weights.
    cpu, cuda = (q2.train("ffn", make_splits(), **dict(FFN, dropout=0.0, device=device))
                 for device in ("cpu", "cuda"))
    for on_cpu, on_cuda in zip(cpu.history, cuda.history, strict=True):
        assert on_cuda["train_loss"] == pytest.approx(on_cpu["train_loss"], rel=1e-4)
        assert on_cuda["val_loss"] == pytest.approx(on_cpu["val_loss"], rel=1e-4)
        assert abs(on_cuda["val_acc"] - on_cpu["val_acc"]) <= 1 / 60 + 1e-9  # one example at most


@needs_cuda
def test_checkpoint_written_on_cuda_resumes_on_cpu(tmp_path):
    # A requeued cluster job may land on a node without a GPU: the run goes on there.
    splits = make_splits()
    checkpoint = tmp_path / "run.ckpt"
    settings = dict(FFN, epochs=5)
    on_cuda = q2.train("ffn", splits, **dict(settings, device="cuda"))
    with pytest.raises(Killed):
        q2.train("ffn", splits, **dict(settings, log=kill_at_epoch(3, []), device="cuda"),
                 checkpoint=q2.Checkpointing(checkpoint, every=2, keep=False))
    lines = []
    resumed = q2.train("ffn", splits, **dict(settings, log=lines.append, device="cpu"),
                       checkpoint=q2.Checkpointing(checkpoint, every=2, keep=False))
    assert resumed.status == STATUS_OK and resumed.device == "cpu"
    assert resumed.extra["resumed_from_epoch"] == 2
    assert comparable(resumed)[0][:2] == comparable(on_cuda)[0][:2]  # the epochs run on the GPU
    assert len(resumed.history) == 5
    assert any("written on cuda" in line and "continuing on cpu" in line for line in lines)


# ----------------------------------------------------------------------------- faults: signals, bad checkpoints

def stop_after(epoch, signal_name="SIGTERM"):
    """A ``stop`` that names a signal once ``epoch`` epochs have been logged (as one that came in then)."""
    lines = []

    def stop():
        return signal_name if sum(line.startswith("ffn epoch") for line in lines) >= epoch else None
    return stop, lines


def test_a_stop_saves_a_checkpoint_the_rerun_resumes_from(tmp_path):
    splits = make_splits()
    settings = dict(FFN, epochs=6)
    uninterrupted = q2.train("ffn", splits, **settings)
    checkpoint = q2.Checkpointing(tmp_path / "run.ckpt", every=100, keep=False)  # no periodic one before the end
    stop, lines = stop_after(2, "SIGUSR1")
    with pytest.raises(StopRequested, match=r"stopped by SIGUSR1 after epoch 2 of 6: checkpoint .*run.ckpt written"):
        q2.train("ffn", splits, **dict(settings, log=lines.append), checkpoint=checkpoint, stop=stop)
    assert checkpoint.path.exists()
    resumed = q2.train("ffn", splits, **settings, checkpoint=checkpoint)
    assert resumed.extra["resumed_from_epoch"] == 2
    assert comparable(resumed) == comparable(uninterrupted)


def test_a_stop_without_checkpointing_says_the_rerun_starts_afresh():
    stop, lines = stop_after(1)
    with pytest.raises(StopRequested, match="after epoch 1 of 4: no checkpoint is kept"):
        q2.train("ffn", make_splits(), **dict(FFN, log=lines.append), stop=stop)


def test_a_stop_after_the_last_epoch_lets_the_run_finish(tmp_path):
    stop, lines = stop_after(4)
    result = q2.train("ffn", make_splits(), **dict(FFN, log=lines.append), stop=stop)
    assert result.status == STATUS_OK and len(result.history) == 4


def another_models_checkpoint(path):
    q2.train("logreg", make_splits(), **dict(LOGREG, epochs=1),
             checkpoint=q2.Checkpointing(path, every=10, keep=True))


@pytest.mark.parametrize("spoil, reason", [
    (lambda path: path.write_bytes(b"not a checkpoint at all " * 40), "cannot be read"),
    (lambda path: (another_models_checkpoint(path), path.write_bytes(path.read_bytes()[:2000])), "cannot be read"),
    (lambda path: path.write_bytes(b""), "cannot be read"),
    (another_models_checkpoint, "written for another run: "),
    (lambda path: torch.save({"epoch": 1, "model": {}}, path), "written in another format"),
], ids=["garbage", "truncated", "empty", "another model", "another format"])
def test_a_checkpoint_that_cannot_resume_the_run_is_set_aside(tmp_path, spoil, reason):
    path = tmp_path / "run.ckpt"
    spoil(path)
    spoiled = path.read_bytes()
    lines = []
    result = q2.train("ffn", make_splits(), **dict(FFN, log=lines.append),
                      checkpoint=q2.Checkpointing(path, every=2, keep=False))
    assert result.status == STATUS_OK and result.extra["resumed_from_epoch"] == 0
    assert comparable(result) == comparable(q2.train("ffn", make_splits(), **FFN))  # a fresh run
    said = [line for line in lines if "unusable" in line]
    assert len(said) == 1 and reason in said[0] and str(path) in said[0] and "run.ckpt.unusable" in said[0]
    assert "weights_only" not in said[0]  # not torch's advice to load it unsafely
    assert (tmp_path / "run.ckpt.unusable").read_bytes() == spoiled  # kept, for a look
    assert not path.exists()  # this run's own checkpoint, removed as it completed

    spoil(path)  # another one later does not overwrite the first that was set aside
    q2.train("ffn", make_splits(), **FFN, checkpoint=q2.Checkpointing(path, every=2, keep=False))
    assert sorted(p.name for p in tmp_path.glob("*unusable*") if p.suffix != ".history") == [
        "run.ckpt.unusable", "run.ckpt.unusable1"]


def interrupted(path, origin, epochs=4, every=2, stop_at=2):
    """A run of FFN stopped after ``stop_at`` epochs, its checkpoint at ``path`` bound to ``origin``."""
    stop, lines = stop_after(stop_at)
    with pytest.raises(StopRequested):
        q2.train("ffn", make_splits(), **dict(FFN, epochs=epochs, log=lines.append), stop=stop,
                 checkpoint=q2.Checkpointing(path, every=every, keep=False).bound_to(origin))


ORIGIN = {"dataset_sha256": "a" * 64, "code_sha256": "c" * 64}


@pytest.mark.parametrize("changed, named", [
    ({"dataset_sha256": "b" * 64}, "dataset_sha256 aaaaaaaaaaaa... (this run: bbbbbbbbbbbb...)"),
    ({"code_sha256": "d" * 64}, "code_sha256 cccccccccccc... (this run: dddddddddddd...)"),
], ids=["other data", "other code"])
def test_a_checkpoint_resumes_only_the_data_and_code_it_was_written_for(tmp_path, changed, named):
    path = tmp_path / "run.ckpt"
    interrupted(path, ORIGIN)
    lines = []
    result = q2.train("ffn", make_splits(), **dict(FFN, log=lines.append),
                      checkpoint=q2.Checkpointing(path, every=2, keep=False).bound_to(ORIGIN | changed))
    assert result.extra["resumed_from_epoch"] == 0 and result.extra["resumed_from_checkpoint"] is None
    said = [line for line in lines if "unusable" in line]
    assert len(said) == 1 and f"it was written for another run: {named}; moved to run.ckpt.unusable" in said[0]

    interrupted(path, ORIGIN)  # the same data and code: resumed, and the summary says from where
    resumed = q2.train("ffn", make_splits(), **FFN, checkpoint=q2.Checkpointing(path, every=2, keep=False)
                       .bound_to(ORIGIN))
    assert resumed.extra["resumed_from_epoch"] == 2 and resumed.extra["resumed_from_checkpoint"] == str(path)


def test_the_history_is_appended_at_each_checkpoint_not_written_again(tmp_path):
    path = tmp_path / "run.ckpt"
    interrupted(path, ORIGIN, epochs=8, every=2, stop_at=5)
    history = q2.Checkpointing(path, every=2, keep=False).history
    assert [json.loads(line)["epoch"] for line in history.read_text().splitlines()] == [1, 2, 3, 4, 5]
    state = torch.load(path, weights_only=True)
    assert "history" not in state and state["epoch"] == 5 and state["history_bytes"] == history.stat().st_size
    with open(history, "a") as handle:  # what a run killed while appending leaves beyond the checkpoint's rows
        handle.write('{"epoch": 6, "train_lo')
    resumed = q2.train("ffn", make_splits(), **dict(FFN, epochs=8),
                       checkpoint=q2.Checkpointing(path, every=2, keep=True).bound_to(ORIGIN))
    assert resumed.extra["resumed_from_epoch"] == 5 and [row["epoch"] for row in resumed.history] == list(range(1, 9))
    assert len(history.read_text().splitlines()) == 8  # kept: the final state's


@pytest.mark.parametrize("spoil, reason", [
    (lambda history: history.unlink(), "its history file run.ckpt.history is missing"),
    (lambda history: history.write_text(history.read_text()[:30]),
     "its history file run.ckpt.history holds 30 of its"),
    (lambda history: history.write_bytes(b"\xff" * history.stat().st_size),
     "its history file run.ckpt.history is damaged"),
], ids=["missing", "short", "damaged"])
def test_a_checkpoint_whose_history_is_not_whole_is_set_aside(tmp_path, spoil, reason):
    path = tmp_path / "run.ckpt"
    interrupted(path, ORIGIN)
    spoil(q2.Checkpointing(path, every=2, keep=False).history)
    lines = []
    result = q2.train("ffn", make_splits(), **dict(FFN, log=lines.append),
                      checkpoint=q2.Checkpointing(path, every=2, keep=False).bound_to(ORIGIN))
    assert result.extra["resumed_from_epoch"] == 0 and len(result.history) == FFN["epochs"]
    assert any(f"checkpoint {path} is unusable: {reason}" in line for line in lines), lines
