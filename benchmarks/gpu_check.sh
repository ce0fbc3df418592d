#!/usr/bin/env bash
# The GPU check, ready for when a CUDA GPU is lent (under 8 minutes in all):
#   1. the `#| cuda` cells of the notebooks (nbdev_test --flags cuda),
#   2. the training-throughput table on CUDA (benchmarks/train_speed.py: backbones x bf16/fp32 x channels_last),
#   3. a short bf16 training run of SynthAU at a BP4D-like size (12 AUs, Swin-B at 224, batch 64),
# then one table: the measured rates and the projected time of 60 epochs of a 100k-frame fold (two views each,
# Swin-B at 224) against the target of 1 hour, i.e. about 3.4k views/s on one H100-class GPU.
#
#     benchmarks/gpu_check.sh                 # from the repository root
#     GPU_CHECK_OUT=runs/gpu_check benchmarks/gpu_check.sh
# Exits non-zero, with a message, when CUDA is absent or a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${GPU_CHECK_OUT:-runs/gpu_check}
export HF_HUB_OFFLINE=1 PYTHONHASHSEED=0

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_check: FAILED: CUDA is not available here (torch $("$PY" -c 'import torch; print(torch.__version__, "built for CUDA", torch.version.cuda)' 2>/dev/null || echo '?'); nvidia-smi: $(command -v nvidia-smi >/dev/null && nvidia-smi -L 2>&1 | head -1 || echo 'not installed'))." >&2
  echo "gpu_check: this check measures GPU throughput and runs the '#| cuda' cells; run it on a machine with a CUDA GPU." >&2
  exit 3
fi
mkdir -p "$OUT"
t_all=$(date +%s)
step() { echo; echo "=== gpu_check: $1"; }

step "1/3 #| cuda cells (nbdev_test --flags cuda)"
t0=$(date +%s)
.venv/bin/nbdev_test --flags cuda --n_workers 4 2>&1 | tee "$OUT/cuda_cells.log"
cuda_cells_s=$(( $(date +%s) - t0 ))

step "2/3 throughput table on CUDA"
t0=$(date +%s)
timeout 300 "$PY" benchmarks/train_speed.py --device cuda --image-size 224 --batch-size 64 --steps 8 --warmup 2 \
  --backbones tiny,resnet18,resnet50,swin_t,swin_b --precisions bf16,fp32 --channels-last 0,1 --compile 0 \
  --workers 0,8 --loader-batches 12 --json "$OUT/train_speed.json" 2>&1 | tee "$OUT/train_speed.log"
speed_s=$(( $(date +%s) - t0 ))

step "3/3 short bf16 training run, SynthAU at a BP4D-like size (Swin-B, 224 px, batch 64)"
t0=$(date +%s)
rm -rf "$OUT/train"
timeout 240 .venv/bin/aunce-train --dataset synth --profile bp4d --subjects 12 --frames 120 --image-size 224 \
  --backbone swin_b --embed-dim 512 --batch-size 64 --epochs 2 --precision bf16 --preset scratch --lr 1e-4 \
  --num-workers 8 --device cuda --monitor-frames 256 --probe-epochs 3 --no-progress \
  --out-dir "$OUT/train" 2>&1 | tee "$OUT/train.log"
train_s=$(( $(date +%s) - t0 ))

"$PY" - "$OUT" "$cuda_cells_s" "$speed_s" "$train_s" "$(( $(date +%s) - t_all ))" <<'PYEOF'
import json, sys
from pathlib import Path
out, cells_s, speed_s, train_s, total_s = Path(sys.argv[1]), *map(int, sys.argv[2:])
rows = json.loads((out / "train_speed.json").read_text())
hist = json.loads((out / "train" / "metrics.json").read_text())
FRAMES, EPOCHS, TARGET_H = 100_000, 60, 1.0
need = FRAMES * 2 * EPOCHS / (TARGET_H * 3600)       # views/s for the target
def proj(views_s): return FRAMES * 2 * EPOCHS / views_s / 3600 if views_s else float("nan")
table = []
for r in rows:
    if r["kind"] == "model" and r["backbone"] == "swin_b" and "views_per_s" in r:
        table.append((f"swin_b {r['precision']} synthetic input, step only", r["views_per_s"]))
    if r["kind"] == "loader" and "views_per_s" in r:
        table.append((f"loader, {r['workers']} workers (SynthAU JPEG + SimCLR views)", r["views_per_s"]))
last = hist[-1]   # epoch 2: past the warm-up of epoch 1
table.append(("aunce-train swin_b bf16, SynthAU, epoch 2 (loader + step)", 2 * last["images_per_s"]))
print(f"\n=== gpu_check summary ({out})")
print(f"{'measurement':62} {'views/s':>9} {'60 ep x 100k frames':>20} {'target 1 h':>10}")
for name, v in table:
    h = proj(v)
    print(f"{name:62} {v:9.0f} {h:18.2f} h {'met' if h <= TARGET_H else 'NOT met':>10}")
print(f"target: {need:.0f} views/s (60 epochs x 100k frames x 2 views in 1 h on one H100-class GPU)")
print(f"times: cuda cells {cells_s}s, throughput {speed_s}s, training {train_s}s, total {total_s}s (budget 480s)")
PYEOF
