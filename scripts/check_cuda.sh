#!/usr/bin/env bash
# The CUDA path end to end, on a machine with an NVIDIA GPU (CI has none), in about five minutes:
#   1. the Q2 tests, which repeat every whole-run test on CUDA where it exists
#      (and test the captured CUDA-graph step against the eager one);
#   2. the epoch benchmark on the GPU: the course's DataLoader loop, the eager
#      (reference) step and the CUDA-graph (fast) step, at the true shapes;
#   3. the Q2 grid at the homework's true scale (synthetic_intel), timed per run.
# It fails if any torch run did not train on cuda with the CUDA-graph step.
# Each step's log goes to OUTPUT_DIR; a table of the runs is printed last.
#
# Usage, from the repository root:  bash scripts/check_cuda.sh [OUTPUT_DIR]
# (default results/cuda_check; PYTHON and CORES override python3 and nproc).
set -uo pipefail

out=$(realpath -m "${1:-results/cuda_check}")
python=${PYTHON:-python3}
cores=${CORES:-$(nproc)}
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
failed=()

step() {  # step NAME TIMEOUT_S COMMAND...: run it with its output in NAME.log
    local name=$1 limit=$2 start=$SECONDS rc
    shift 2
    echo "== $name: $*"
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    rc=$?
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    tail -n "${TAIL_LINES:-6}" "$out/$name.log"
    [ "$rc" -eq 0 ] || failed+=("$name")
}

step gpu 30 "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
      "device", torch.cuda.get_device_name(0)); assert torch.cuda.is_available()'
step q2_tests 80 "$python" -m pytest -q -rs tests/test_q2.py tests/test_q2_graph.py
TAIL_LINES=8 step bench_cuda 80 "$python" scripts/benchmark.py --families q2 --device cuda --quick \
    --cores "$cores" --out "$out/benchmark"
step synthetic_intel_q2 100 "$python" -m snakemake --cores "$cores" --until train_q2 \
    --config dataset=synthetic_intel device=auto

# Every Q2 run: where it ran, with which step, and how long its training loop took.
"$python" - <<'EOF' | tee "$out/q2_runs.txt"
from pathlib import Path
from homework1.tables import read_summaries, to_markdown
paths = sorted(Path("results/runs").glob("*/q2/*/*/seed*/summary.json"))
if not paths:
    raise SystemExit("no Q2 run summaries under results/runs")
runs = read_summaries(paths)
print(to_markdown(runs[["dataset", "experiment", "variant", "seed", "device", "training_step", "status",
                        "epochs_completed", "wall_time_s", "test_acc"]]))
slow = runs[~runs["device"].str.startswith("cuda") | (runs["training_step"] != "cuda_graph")]
print(f"{len(runs)} Q2 runs, {len(slow)} not on cuda with the CUDA-graph step")
raise SystemExit(1 if len(slow) else 0)
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(q2_runs)

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (logs in $out)"
    exit 1
fi
echo "all CUDA checks passed (logs in $out)"
