#!/usr/bin/env bash
# The CUDA path end to end, on a machine with an NVIDIA GPU (CI has none), in about five minutes:
# the Q2 tests (every whole-run test is repeated on CUDA there, and the captured step is compared
# with the eager one); the epoch benchmark on the GPU (the course's loop, the eager step, the
# CUDA graph, torch.compile); the Q2 grid at the true scale (synthetic_intel). It fails if any
# torch run did not train on cuda with the CUDA-graph step. Logs go to OUTPUT_DIR.
#
# Usage, from the repository root:  bash scripts/check_cuda.sh [OUTPUT_DIR]   (default results/cuda_check)
# PYTHON and CORES override python3 and nproc.
set -uo pipefail
out=$(realpath -m "${1:-results/cuda_check}")
python=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONPATH=src PYTHONUNBUFFERED=1  # the package, from this checkout, as everywhere
failed=()

step() {  # step NAME TIMEOUT_S COMMAND...: run it with its output in NAME.log
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    echo "== $name: $*"
    timeout "$limit" "$@" >"$out/$name.log" 2>&1 || failed+=("$name")
    echo "== $name: done after $((SECONDS - start)) s"
    tail -n "${TAIL_LINES:-6}" "$out/$name.log"
}

step gpu 30 "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
      "device", torch.cuda.get_device_name(0)); assert torch.cuda.is_available()'
step q2_tests 80 "$python" -m pytest -q -n 0 tests/test_q2.py tests/test_q2_steps.py
TAIL_LINES=8 step bench_cuda 80 "$python" scripts/benchmark.py --families q2 --device cuda --quick \
    --cores "${CORES:-$(nproc)}" --out "$out/benchmark"
step synthetic_intel_q2 100 "$python" -m snakemake --cores "${CORES:-$(nproc)}" --until train_q2 \
    --config dataset=synthetic_intel device=auto
# every Q2 run: where it ran, with which step, and how long its training loop took
step q2_runs 30 "$python" -c 'from pathlib import Path; from homework1.analysis.tables import read_summaries, to_markdown
from homework1.plan.specs import CUDA_GRAPH; from homework1.plan.study import RUNS_DIR
runs = read_summaries(sorted(Path(RUNS_DIR).glob("*/q2/*/*/seed*/summary.json")))
print(to_markdown(runs[["dataset", "experiment", "variant", "seed", "device", "training_step", "graph_check",
                        "wall_time_s"]]))
slow = runs[~runs["device"].str.startswith("cuda") | (runs["training_step"] != CUDA_GRAPH)]
raise SystemExit(f"{len(slow)} of {len(runs)} Q2 runs not on cuda with the CUDA-graph step" if len(slow) else 0)'
cat "$out/q2_runs.log"

[ ${#failed[@]} -eq 0 ] || { echo "FAILED: ${failed[*]} (logs in $out)"; exit 1; }
echo "all CUDA checks passed (logs in $out)"
