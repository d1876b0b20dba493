#!/usr/bin/env bash
# The CUDA path end to end, on a machine with an NVIDIA GPU (CI has none):
#   1. the Q2 tests, which repeat every whole-run test on CUDA where it exists;
#   2. the epoch benchmark on the GPU, project loop against the course's;
#   3. the default study with device auto: every torch job must report cuda;
#   4. the Q2 grid at the homework's true scale (synthetic_intel), timed per run.
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

step gpu 60 "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
      "device", torch.cuda.get_device_name(0)); assert torch.cuda.is_available()'
step q2_tests 120 "$python" -m pytest -q -rs tests/test_q2.py
TAIL_LINES=8 step bench_cuda 150 "$python" scripts/bench_q2_epoch.py --device cuda --repeats 5
step default_study 150 "$python" -m snakemake --cores "$cores" --config device=auto
step synthetic_intel_q2 240 "$python" -m snakemake --cores "$cores" --until train_q2 \
    --config dataset=synthetic_intel device=auto

# Every Q2 run: where it ran and how long its training loop took.
"$python" - <<'EOF' | tee "$out/q2_runs.txt"
from pathlib import Path
from homework1.tables import read_summaries, to_markdown
paths = sorted(Path("results/runs").glob("*/q2/*/*/seed*/summary.json"))
if not paths:
    raise SystemExit("no Q2 run summaries under results/runs")
runs = read_summaries(paths)
print(to_markdown(runs[["dataset", "experiment", "variant", "seed", "device", "status",
                        "epochs_completed", "wall_time_s", "test_acc"]]))
off_gpu = runs[~runs["device"].str.startswith("cuda")]
print(f"{len(runs)} Q2 runs, {len(off_gpu)} not on cuda")
raise SystemExit(1 if len(off_gpu) else 0)
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(q2_runs)

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (logs in $out)"
    exit 1
fi
echo "all CUDA checks passed (logs in $out)"
