#!/usr/bin/env bash
# The training comparisons of the README ("Training: what was measured"): runs of the small model
# from scratch on the same data, the same sample budget and the same validation protocol (4-step
# DDIM MPJPE on held-out subjects), each `config/train.toml` with one change. Resumable: a run that
# is complete is skipped, an interrupted one continues. Then scores each final checkpoint on the
# whole test split (`mocapd eval`, every window, one camera view each: the criterion), prints the
# table and draws the curves.
#   tools/ablations.sh weighting|conditioning|capacity [STEPS] [DATA_DIR]
# Runs go to runs/ablation/<group>/<name>; on a CUDA machine they use the GPU (device = "auto").
set -euo pipefail
cd "$(dirname "$0")/.."
group=${1:?usage: tools/ablations.sh weighting|conditioning|capacity [STEPS] [DATA_DIR]}
steps=${2:-2000}
data=${3:-data/train}
py=${PYTHON:-.local/venv/bin/python}
out=runs/ablation/$group
mkdir -p "$out"
run() {
  local name=$1; shift
  local dir=$out/$name
  local args=(--config config/train.toml --set "data_dir=\"$data\"" --set "out_dir=\"$dir\"" --set "schedule.steps=$steps"
              --set "schedule.val_every=$((steps / 8))" --set "schedule.checkpoint_every=$((steps / 8))" --set "loss.p_steps=$steps")
  if [ -f "$dir/log.jsonl" ] && grep -q "\"step\": $steps," "$dir/log.jsonl"; then return 0; fi
  [ -f "$dir/train-state.pt" ] && args+=(--resume)
  echo "== $group/$name" >&2
  PYTHONPATH=python "$py" -m mocapd_train "${args[@]}" "$@"
}
# The weighting every group but `weighting` was measured with (the default until the weighting
# comparison chose constant w_t), pinned so that their runs resume and repeat as measured.
floored=(--set 'loss.weighting="min_snr"' --set loss.floor=1.0)
case $group in
  weighting)
    run constant --set 'loss.weighting="constant"' --set loss.floor=0.0     # the default since it won
    run min-snr-floor "${floored[@]}"      # min(SNR, 5), floored at 1: keeps the high-noise steps
    run min-snr --set 'loss.weighting="min_snr"' --set loss.floor=0.0      # the seed's Min-SNR-γ (γ = 5)
    run sqrt-decay --set 'loss.weighting="sqrt_decay_avg"' --set loss.gamma=1.0 --set loss.floor=0.0  # the seed's recommendation
    run no-ptss "${floored[@]}" --set loss.p_from=0.0 --set loss.p_to=0.0  # min-snr-floor without PTSS
    ;;
  conditioning)
    run frame-aligned "${floored[@]}"
    run cross-attention-only "${floored[@]}" --set model.frame_cond=false
    ;;
  capacity)
    run small "${floored[@]}"
    run big "${floored[@]}" --set 'model.preset="big"'
    ;;
  *) echo "unknown group $group (weighting, conditioning, capacity)" >&2; exit 2 ;;
esac
mocapd=${MOCAPD:-target/release/mocapd}
for dir in "$out"/*/; do
  report=$dir/test-eval.json
  [ -f "$report" ] && [ "$report" -nt "$dir/checkpoint.safetensors" ] && continue
  echo "== $group/$(basename "$dir"): mocapd eval on the test split" >&2
  "$mocapd" eval --checkpoint "$dir/checkpoint.safetensors" --data "$data" --steps 1,4 --views one --nn-library 0 --json > "$report.tmp"
  mv "$report.tmp" "$report"
done
PYTHONPATH=python "$py" -m mocapd_train.compare "$out"/* --plot "docs/ablation-$group.png"
