#!/usr/bin/env bash
# ViMo's training ablations at CPU scale: five runs of the small model from scratch, each
# `config/train.toml` with one change, 1000 steps of batch 4, validation every 100 steps.
#   tools/ablations.sh [steps]      -> runs/ablation/<name>/{log.jsonl,loss.png,...}
# Then `mocapd train --compare runs/ablation/* --plot docs/ablation.png` prints the table and draws the curves.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1000}"
out=runs/ablation
mkdir -p "$out"
base() {
  sed -e "s#^out_dir = .*#out_dir = \"$out/$1\"#" -e 's/^threads = .*/threads = 1/' \
      -e "s/^steps = .*/steps = $steps/" -e 's/^val_every = .*/val_every = 100/' \
      -e 's/^val_mpjpe_clips = .*/val_mpjpe_clips = 16/' -e "s/^p_steps = .*/p_steps = $steps/" \
      -e 's/^checkpoint_every = .*/checkpoint_every = 1000/' -e 's/^progress = .*/progress = false/' \
      config/train.toml
}
run() {
  local name="$1"; shift
  [ -f "$out/$name/train-state.json" ] && grep -q "\"step\": $steps" "$out/$name/train-state.json" && return 0
  base "$name" | sed "$@" > "$out/$name.toml"
  echo "== $name"
  target/release/mocapd train --config "$out/$name.toml" $( [ -d "$out/$name" ] && echo --resume ) \
    > "$out/$name.out" 2>&1
}
run sqrt_decay_avg -e 's/^weighting = .*/weighting = "sqrt_decay_avg"/'
run min_snr -e 's/^weighting = .*/weighting = "min_snr"/'
run constant -e 's/^weighting = .*/weighting = "constant"/'
run no_ptss -e 's/^p_from = .*/p_from = 0.0/' -e 's/^p_to = .*/p_to = 0.0/'
run adamw -e 's/^kind = .*/kind = "adamw"/'
