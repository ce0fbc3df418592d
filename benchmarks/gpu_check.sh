#!/usr/bin/env bash
# The GPU check, ready for when a CUDA GPU is lent (about 7 minutes in all, every step under a timeout):
#   1. the `#| cuda` cells of the notebooks (tools/run_cuda_cells.py: nbdev_test --flags cuda without nbdev),
#   2. the training-throughput table on CUDA (benchmarks/train_speed.py): backbones x bf16/fp32 x channels_last at
#      batch 64; Swin-B and ResNet-50 bf16 at batch 128 with and without torch.compile; the loader with 0, 8 and 16
#      workers (with and without the aligned-face cache), timed over enough batches to be past the workers' start-up,
#   3. a short bf16 training run of SynthAU at a BP4D-like size (12 AUs, Swin-B at 224, batch 64),
#   4. the same from a prepared root: SynthAU rendered at 256 px, `aunce-data prepare --size 256` (faces aligned once,
#      so the loader only crops and augments), then Swin-B bf16 channels_last at 224 from it; a failure of the
#      prepare step is reported and the rest goes on,
# then one table: the measured rates and the projected time of 60 epochs of a 100k-frame fold (two views each,
# Swin-B at 224) against the target of 1 hour, i.e. about 3.4k views/s on one H100-class GPU.
#
#     benchmarks/gpu_check.sh                 # from anywhere; it works in the checkout's root
#     GPU_CHECK_OUT=runs/gpu_check benchmarks/gpu_check.sh
#     PY=/usr/bin/python3 benchmarks/gpu_check.sh
#     GPU_CHECK_DRY=1 benchmarks/gpu_check.sh # print the commands it would run; no CUDA needed, nothing runs
#
# Needs only a python with torch and timm (and the checkout): not nbdev, not an installed aunce, not the network.
# PY defaults to .venv/bin/python where that exists, else python (python3 if there is no python); the package
# runs from the checkout (PYTHONPATH) and its console scripts are called as
# `$PY -c 'import sys; from aunce.cli import train_cli; sys.exit(train_cli())' ARGS` (= aunce-train ARGS).
# Exits 3 when CUDA is absent; otherwise runs every step and exits 1 if any failed (listed at the end).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PY:-}" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python
  elif command -v python >/dev/null 2>&1; then PY=python
  else PY=python3; fi
fi
OUT=${GPU_CHECK_OUT:-runs/gpu_check}
DRY=${GPU_CHECK_DRY:-0}
export HF_HUB_OFFLINE=1 PYTHONHASHSEED=0 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

failed=()
# run LOG SECONDS CMD...: CMD under a timeout, its output shown and kept in LOG; a failure is recorded, not fatal
run() {
  local log=$1 secs=$2; shift 2
  if [ "$DRY" = 1 ]; then printf '+ timeout %s' "$secs"; printf ' %q' "$@"; printf '  > %s\n' "$log"; return 0; fi
  timeout "$secs" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" != 0 ]; then
    echo "gpu_check: step FAILED (exit $rc$([ "$rc" = 124 ] && echo ", timed out after ${secs}s")): $log" >&2
    failed+=("$log")
  fi
  return "$rc"
}

if [ "$DRY" = 1 ]; then
  echo "gpu_check: dry run (GPU_CHECK_DRY=1): the commands, none run; PY=$PY OUT=$OUT PYTHONPATH=$PYTHONPATH"
elif ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_check: FAILED: CUDA is not available here (python $PY: torch $("$PY" -c 'import torch; print(torch.__version__, "built for CUDA", torch.version.cuda)' 2>/dev/null || echo '?'); nvidia-smi: $(command -v nvidia-smi >/dev/null && nvidia-smi -L 2>&1 | head -1 || echo 'not installed'))." >&2
  echo "gpu_check: this check measures GPU throughput and runs the '#| cuda' cells; run it on a machine with a CUDA GPU." >&2
  exit 3
fi
[ "$DRY" = 1 ] || mkdir -p "$OUT"
t_all=$(date +%s)
step() { echo; echo "=== gpu_check: $1"; }

step "1/4 #| cuda cells (tools/run_cuda_cells.py --flags cuda)"
t0=$(date +%s)
run "$OUT/cuda_cells.log" 150 "$PY" tools/run_cuda_cells.py --flags cuda --timeout 140
cuda_cells_s=$(( $(date +%s) - t0 ))

step "2/4 throughput table on CUDA"
t0=$(date +%s)
run "$OUT/train_speed.log" 120 "$PY" benchmarks/train_speed.py --device cuda --only model --image-size 224 --batch-size 64 \
  --steps 8 --warmup 2 --backbones tiny,resnet18,resnet50,swin_t,swin_b --precisions bf16,fp32 --channels-last 0,1 \
  --compile 0 --json "$OUT/train_speed.json"
# batch 128 and torch.compile (the compile's own time is the warm-up column)
run "$OUT/train_speed_b128.log" 150 "$PY" benchmarks/train_speed.py --device cuda --only model --image-size 224 \
  --batch-size 128 --steps 8 --warmup 3 --backbones swin_b,resnet50 --precisions bf16 --channels-last 1 --compile 0,1 \
  --json "$OUT/train_speed_b128.json"
# the loader: 0 workers briefly; 8 and 16 workers over 40 batches (the first not counted), past the workers' start-up
run "$OUT/loader_w0.log" 60 "$PY" benchmarks/train_speed.py --device cuda --only loader --image-size 224 --batch-size 64 \
  --workers 0 --loader-batches 10 --json "$OUT/loader_w0.json"
run "$OUT/loader.log" 120 "$PY" benchmarks/train_speed.py --device cuda --only loader --image-size 224 --batch-size 64 \
  --workers 8,16 --cache 0,1 --loader-batches 40 --json "$OUT/loader.json"
speed_s=$(( $(date +%s) - t0 ))

step "3/4 short bf16 training run, SynthAU at a BP4D-like size (Swin-B, 224 px, batch 64)"
t0=$(date +%s)
[ "$DRY" = 1 ] || rm -rf "$OUT/train"
TRAIN_ARGS=(--image-size 224 --backbone swin_b --embed-dim 512 --batch-size 64 --epochs 2 --precision bf16
  --preset scratch --lr 1e-4 --num-workers 8 --device cuda --monitor-frames 256 --probe-epochs 3 --no-progress)
run "$OUT/train.log" 150 "$PY" -c 'import sys; from aunce.cli import train_cli; sys.exit(train_cli())' \
  --dataset synth --profile bp4d --subjects 12 --frames 120 "${TRAIN_ARGS[@]}" --out-dir "$OUT/train"
train_s=$(( $(date +%s) - t0 ))

step "4/4 a prepared root: SynthAU at 256 px, aunce-data prepare --size 256, then Swin-B bf16 channels_last at 224"
t0=$(date +%s)
[ "$DRY" = 1 ] || rm -rf "$OUT/synth256" "$OUT/prepared256" "$OUT/train_prepared"
prep_ok=1
run "$OUT/synth256.log" 60 "$PY" -c 'import sys; from aunce.cli import synth_cli; sys.exit(synth_cli())' \
  --profile bp4d --subjects 12 --frames 120 --size 256 --workers 8 --out "$OUT/synth256" || prep_ok=0
[ "$prep_ok" = 1 ] && { run "$OUT/prepare.log" 90 "$PY" -c 'import sys; from aunce.cli import data_cli; sys.exit(data_cli())' \
  prepare --dataset synth --root "$OUT/synth256" --out "$OUT/prepared256" --size 256 || prep_ok=0; }
if [ "$prep_ok" = 1 ]; then
  run "$OUT/train_prepared.log" 150 "$PY" -c 'import sys; from aunce.cli import train_cli; sys.exit(train_cli())' \
    --dataset synth --data-root "$OUT/prepared256" --channels-last true "${TRAIN_ARGS[@]}" --out-dir "$OUT/train_prepared"
else
  echo "gpu_check: the prepared root could not be made (see $OUT/synth256.log, $OUT/prepare.log): its training run is skipped" >&2
fi
prep_s=$(( $(date +%s) - t0 ))

if [ "$DRY" = 1 ]; then
  echo "+ $PY - $OUT <times>  # the summary table from $OUT/{train_speed,train_speed_b128,loader_w0,loader}.json, train/ and train_prepared/metrics.json"
  exit 0
fi
"$PY" - "$OUT" "$cuda_cells_s" "$speed_s" "$train_s" "$prep_s" "$(( $(date +%s) - t_all ))" <<'PYEOF'
import json, sys
from pathlib import Path
out, cells_s, speed_s, train_s, prep_s, total_s = Path(sys.argv[1]), *map(int, sys.argv[2:])
def load(name):
    try: return json.loads((out / name).read_text())
    except (OSError, ValueError): return None
FRAMES, EPOCHS, TARGET_H = 100_000, 60, 1.0
need = FRAMES * 2 * EPOCHS / (TARGET_H * 3600)       # views/s for the target
def proj(views_s): return FRAMES * 2 * EPOCHS / views_s / 3600 if views_s else float("nan")
table, missing = [], []
for f in ("train_speed.json", "train_speed_b128.json"):
    rows = load(f)
    if rows is None: missing.append(f); continue
    for r in rows:
        if r["kind"] == "model" and r["backbone"] in ("swin_b", "resnet50") and "views_per_s" in r and (
                r["backbone"] == "swin_b" or r["batch_size"] == 128):
            table.append((f"{r['backbone']} {r['precision']} b{r['batch_size']} cl{r['channels_last']} "
                          f"compile{r['compile']}, synthetic input, step only", r["views_per_s"]))
for f in ("loader_w0.json", "loader.json"):
    rows = load(f)
    if rows is None: missing.append(f); continue
    for r in rows:
        if r["kind"] == "loader" and "views_per_s" in r:
            table.append((f"loader, {r['workers']} workers, cache {r['cache']} (SynthAU JPEG + SimCLR views)", r["views_per_s"]))
for run, name in (("train", "aunce-train swin_b bf16, SynthAU JPEGs, epoch 2 (loader + step)"),
                  ("train_prepared", "aunce-train swin_b bf16 cl, prepared root, epoch 2")):
    hist = load(f"{run}/metrics.json")
    if not hist: missing.append(f"{run}/metrics.json"); continue
    table.append((name, 2 * hist[-1]["images_per_s"]))   # the last epoch: past the warm-up of epoch 1
print(f"\n=== gpu_check summary ({out})")
print(f"{'measurement':66} {'views/s':>9} {'60 ep x 100k frames':>20} {'target 1 h':>10}")
for name, v in table:
    h = proj(v)
    print(f"{name:66} {v:9.0f} {h:18.2f} h {'met' if h <= TARGET_H else 'NOT met':>10}")
print(f"target: {need:.0f} views/s (60 epochs x 100k frames x 2 views in 1 h on one H100-class GPU)")
if missing: print(f"missing (a step failed or timed out): {', '.join(missing)}")
print(f"times: cuda cells {cells_s}s, throughput {speed_s}s, training {train_s}s, prepared root {prep_s}s, "
      f"total {total_s}s (budget 480s)")
PYEOF
if [ ${#failed[@]} -gt 0 ]; then echo "gpu_check: FAILED steps: ${failed[*]}" >&2; exit 1; fi
echo "gpu_check: every step passed"
