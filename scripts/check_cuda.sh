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
import json, pathlib
rows = [json.loads(p.read_text()) for p in sorted(pathlib.Path("results/runs").glob("*/q2/*/*/seed*/summary.json"))]
print(f"{'dataset':<16} {'experiment':<14} {'variant':<22} {'seed':>4} {'device':<7} {'status':<9} {'epochs':>6} {'train s':>8} {'test acc':>8}")
for r in rows:
    test_acc = "" if r["test_acc"] is None else f"{r['test_acc']:.4f}"
    print(f"{r['dataset']:<16} {r['experiment']:<14} {r['variant']:<22} {r['seed']:>4} {r['device']:<7} {r['status']:<9} "
          f"{r['epochs_completed']:>6} {r['wall_time_s']:>8.1f} {test_acc:>8}")
off_gpu = [r for r in rows if not r["device"].startswith("cuda")]
print(f"{len(rows)} Q2 runs, {len(off_gpu)} not on cuda")
raise SystemExit(1 if off_gpu or not rows else 0)
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(q2_runs)

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (logs in $out)"
    exit 1
fi
echo "all CUDA checks passed (logs in $out)"
