#!/usr/bin/env bash
# Training throughput of the small denoiser, side by side in one run on one data set: the PyTorch
# trainer in fp32 and in bf16 autocast and, when given, the candle trainer that mocapd had before
# version 0.3 (`CANDLE_MOCAPD=path/to/old/mocapd` with `CANDLE_CONFIG=its config/train.toml`).
# Usage: tools/train_speed.sh DATA_DIR [STEPS]   (batch 32, 150 frames, all cores; run on an idle machine)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: tools/train_speed.sh DATA_DIR [STEPS]}
steps=${2:-10}
py=${PYTHON:-.local/venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${CANDLE_MOCAPD:-}" ]; then
  sed -e "s|^data_dir = .*|data_dir = \"$(realpath "$data")\"|" -e "s|^out_dir = .*|out_dir = \"$tmp/candle\"|" \
      -e "s|^batch_size = .*|batch_size = 32|" -e "s|^steps = .*|steps = $steps|" -e "s|^val_every = .*|val_every = 0|" \
      -e "s|^val_mpjpe_clips = .*|val_mpjpe_clips = 1|" -e "s|^val_ddim_steps = .*|val_ddim_steps = 1|" \
      -e "s|^checkpoint_every = .*|checkpoint_every = 0|" -e "s|^progress = .*|progress = false|" -e "s|^threads = .*|threads = $(nproc)|" \
      "${CANDLE_CONFIG:?set CANDLE_CONFIG to the old config/train.toml}" > "$tmp/candle.toml"
  "$CANDLE_MOCAPD" train --config "$tmp/candle.toml" 2>&1 | grep -m1 "\"samples_per_s\"" | sed "s/^ */candle: /"
fi
for bf in false true; do
  PYTHONPATH=python "$py" -m mocapd_train --config config/train.toml --set "data_dir=\"$data\"" --set "out_dir=\"$tmp/torch-$bf\"" \
    --set bf16=$bf --set model.frame_cond=false --set schedule.steps=$steps --set schedule.val_every=0 --set schedule.checkpoint_every=0 \
    --set schedule.progress=false 2>&1 | tail -1 | sed "s/^/pytorch (bf16 $bf): /"
done
