#!/usr/bin/env bash
# Soak: runs `mocapd run` on a config for SECONDS (default 3600: one hour), samples the daemon's
# resident memory every INTERVAL seconds (default 5) from /proc, keeps its once-a-second status
# lines, and at the end draws the RSS curve (tools/plot_soak.py). Resumable only by starting over;
# run it in the background:
#   nohup tools/soak.sh runs/soak 3600 > runs/soak.log 2>&1 &
# Writes OUT/rss.tsv (seconds, RSS KiB), OUT/status.log (the daemon's stderr), OUT/rss.png.
# MOCAPD (default target/release/mocapd) and CONFIG (default config/demo.toml) override.
set -euo pipefail
out=${1:?usage: tools/soak.sh OUT_DIR [SECONDS] [INTERVAL]}
seconds=${2:-3600}
interval=${3:-5}
bin=${MOCAPD:-target/release/mocapd}
config=${CONFIG:-config/demo.toml}
if [ -e "$out/rss.tsv" ]; then
  echo "soak: $out/rss.tsv exists; choose another OUT_DIR (a soak is never overwritten)" >&2
  exit 2
fi
mkdir -p "$out"
"$bin" run --config "$config" 2> "$out/status.log" &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' EXIT
start=$(date +%s)
printf 'seconds\trss_kib\n' > "$out/rss.tsv"
while kill -0 "$pid" 2>/dev/null; do
  now=$(( $(date +%s) - start ))
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && printf '%s\t%s\n' "$now" "$rss" >> "$out/rss.tsv"
  if [ "$now" -ge "$seconds" ]; then
    kill -INT "$pid"
    break
  fi
  sleep "$interval"
done
wait "$pid" || { echo "soak: mocapd exited with status $?" >&2; exit 1; }
trap - EXIT
py=.local/venv/bin/python
[ -x "$py" ] || py=python3
"$py" tools/plot_soak.py "$out"
