#!/usr/bin/env bash
# The live daemon at the size users deploy: `ttad run` (live mode, the shipped config) on a
# random-weight CLIP ViT-B/32 folder (tools/make_deployed_model.py), fed JPEG frames of the
# continual scenario by `ttad stream --encoding jpeg`, at a fixed rate and flat out; `ttad eval
# --endpoint` collects the predictions. One line per run: frames/s, latency p50/p99 (arrival ->
# published), the worker's steps per minute, the daemon's peak RSS (VmHWM).
#
#   tools/live_vit.sh [OUT] [FRAMES]                      # defaults /tmp/ttad-live-vit, 300 frames per run
#   PRESETS="frozen ttad" PRECISIONS="f32 int8" THREADS="1 2" RATES="4 0" tools/live_vit.sh
#   MODEL=/path/to/folder TTAD=.build-release/release/ttad tools/live_vit.sh
#   EXTRA=$'min_bank_items = 4\n[adaptation.bank]\nentropy_fraction = 1\nrequire_frozen_agreement = false\n[adaptation.label_gate]\nwindow = 0' tools/live_vit.sh
#     extra [adaptation] lines for the adapting presets. A random-weight model is confident about
#     nothing and predicts few classes, so under the shipped rules the label gate's warm-up never
#     ends and the class-balanced bank stays small: the worker never steps. These lines open
#     admission and the gate so that it does a real model's work (docs/benchmarks.md).
#
# RATES: frames per second, 0 = as fast as the daemon takes them (PULL back-pressure). Accuracy is
# meaningless here (random weights); speed, steps and memory are what it measures. Run it on an
# otherwise idle machine, the runs one after the other (that is what it does).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-live-vit}
FRAMES=${2:-300}
PRESETS=${PRESETS:-frozen ttad}
PRECISIONS=${PRECISIONS:-f32 int8}
THREADS=${THREADS:-1 2}
RATES=${RATES:-4 0}
MODEL=${MODEL:-$OUT/vit-b32}
if [[ -n ${TTAD:-} ]]; then T=$TTAD; else swift build -c release --product ttad >&2; T=.build/release/ttad; fi
mkdir -p "$OUT"
[[ -f $MODEL/model.safetensors ]] || python3 tools/make_deployed_model.py --shape b32 --out "$MODEL" >&2
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metric() { awk -v n="$2" '$1 == n {print $2}' "$1"; }

printf '%-7s %-5s %-7s %-5s %8s %9s %9s %11s %9s\n' preset prec threads rate frames/s p50_ms p99_ms steps/min rss_MB
for p in $PRESETS; do for prec in $PRECISIONS; do for th in $THREADS; do for rate in $RATES; do
  run=$OUT/$p-$prec-t$th-r$rate
  pin=$(port); pout=$(port); pm=$(port)
  extra=""; [[ $p != frozen ]] && extra=${EXTRA:-}
  tools/preset_config.sh "$p" "$extra" | sed \
      -e "s|^folder = .*|folder = \"$MODEL\"\nprecision = \"$prec\"|" \
      -e "s|^blas_threads = .*|blas_threads = $th|" \
      -e "s|^endpoints = \[\"tcp://127.0.0.1:7755\"\]|endpoints = [\"tcp://127.0.0.1:$pin\"]|" \
      -e "s|^endpoints = \[\"tcp://127.0.0.1:7756\"\]|endpoints = [\"tcp://127.0.0.1:$pout\"]|" \
      -e "s|^port = 7757|port = $pm|" > "$run.toml"
  rm -rf "$run-state"
  "$T" run --config "$run.toml" --state-dir "$run-state" > "$run-daemon.log" 2>&1 &
  daemon=$!
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$pm/readyz" >/dev/null && break; sleep 0.5; done
  "$T" eval --endpoint "tcp://127.0.0.1:$pout" --count "$FRAMES" --only-stream live --json "$run.json" > "$run-eval.log" 2>&1 &
  ev=$!
  sleep 1
  start=$(date +%s.%N)
  "$T" stream --endpoint "tcp://127.0.0.1:$pin" --scenario continual --per-domain 1000 --limit "$FRAMES" \
    --encoding jpeg --rate "$rate" --stream live > "$run-stream.log" 2>&1
  wait $ev || true
  end=$(date +%s.%N)
  curl -s "http://127.0.0.1:$pm/metrics" > "$run.metrics" || true
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$daemon/status")
  kill -TERM $daemon; wait $daemon || true
  python3 - "$run.json" "$run.metrics" "$start" "$end" "$p" "$prec" "$th" "$rate" "$rss" <<'EOF'
import json, sys
path, metrics, start, end, p, prec, th, rate, rss = sys.argv[1:]
r = json.load(open(path))
l = r["latency"]
seconds = float(end) - float(start)
steps = 0.0
for line in open(metrics):
    if line.startswith("ttad_adaptation_steps_total "):
        steps = float(line.split()[-1])
print(f"{p:7s} {prec:5s} {th:7s} {rate:5s} {l['count'] / seconds:8.2f} {1e3 * l['p50']:9.1f} {1e3 * l['p99']:9.1f} "
      f"{steps / (seconds / 60):11.1f} {int(rss) / 1024:9.0f}")
EOF
done; done; done; done
