#!/usr/bin/env bash
# Side-by-side latency runs of `mocapd bench` on one input, for the README's "Under load" and
# "Recordings" tables. Run it on an otherwise idle machine (it makes its own load):
#   tools/load_bench.sh load OUT_DIR [INPUT] [SECONDS] [ROUNDS]
#       idle; then with two busy processes (`yes`, one per core of a 2-core machine, or
#       LOAD_PROCS of them) with the governor (pipeline.latency_budget_ms = 80, the default)
#       and without it (latency_budget_ms = 0: always the configured 4 steps)
#   tools/load_bench.sh record OUT_DIR [INPUT] [SECONDS] [ROUNDS]
#       idle, recording BVH + JSON Lines + .vrma vs not recording, interleaved
# Each run: INPUT (default assets/demo.mp4) looped for SECONDS (default 60) with the first
# 5 s left out (--warmup 5); ROUNDS (default 2) rounds. Writes OUT_DIR/<round>-<case>.json and
# prints one table row per run. MOCAPD overrides the binary (default target/release/mocapd).
set -euo pipefail
mode=${1:?usage: tools/load_bench.sh load|record OUT_DIR [INPUT] [SECONDS] [ROUNDS]}
out=${2:?usage: tools/load_bench.sh load|record OUT_DIR [INPUT] [SECONDS] [ROUNDS]}
input=${3:-assets/demo.mp4}
seconds=${4:-60}
rounds=${5:-2}
bin=${MOCAPD:-target/release/mocapd}
procs=${LOAD_PROCS:-$(nproc)}
mkdir -p "$out"
printf '[pipeline]\nlatency_budget_ms = 0.0\n' > "$out/no-governor.toml"
printf '[record]\nbvh = "%s/rec/take.bvh"\nvrma = "%s/rec/take.vrma"\nmotion = "%s/rec/take.jsonl"\n' "$out" "$out" "$out" > "$out/record.toml"
: > "$out/empty.toml"

loadpids=()
load_on() { for _ in $(seq "$procs"); do yes > /dev/null & loadpids+=($!); done; sleep 2; }
load_off() { kill "${loadpids[@]}" 2>/dev/null || true; wait "${loadpids[@]}" 2>/dev/null || true; loadpids=(); sleep 3; }
trap load_off EXIT

bench() {  # NAME CONFIG
  local json="$out/$1.json"
  "$bin" bench "$input" --loop --duration "$seconds" --warmup 5 --json --config "$2" > "$json" 2> "$out/$1.log"
  python3 - "$json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l, d, u = r["latency_ms"], r["dropped"], r["denoise_update_ms"]
drops = sum(d.values())
steps = ", ".join(f"{k}: {v}" for k, v in r["updates_by_steps"].items())
secs = r["seconds"] - r["warmup_s"]
threads = ", ".join(f"{n} {v / secs:.2f}" for n, v in r.get("cpu_by_thread", [])[:3])
print(f"| {sys.argv[2]} | {l['p50']:.1f} / {l['p95']:.1f} / {l['p99']:.1f} | {u['p50']:.1f} | {r['stage_sink_ms']['p95']:.2f} | {r['frames_sent']} | {drops} ({r['drop_percent']:.2f} %) | {steps} | {r['cpu_cores']:.2f} ({threads}) |")
PY
}

echo "| run | latency p50 / p95 / p99 ms | update p50 ms | emitted→sent p95 ms | sent | dropped | updates by steps | cores (by thread) |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  case "$mode" in
    load)
      bench "$r-idle" "$out/empty.toml"
      load_on
      bench "$r-loaded" "$out/empty.toml"
      bench "$r-loaded-no-governor" "$out/no-governor.toml"
      load_off
      ;;
    record)
      bench "$r-recording-off" "$out/empty.toml"
      bench "$r-recording-on" "$out/record.toml"
      ;;
    *) echo "unknown mode $mode (load or record)" >&2; exit 2 ;;
  esac
done
