#!/usr/bin/env bash
# Live-mode prediction latency with adaptation running vs without, side by side in one run: the
# daemon (`ttad run`, live mode, the shipped default config with the preset set) is fed the
# continual scenario at a fixed rate by `ttad stream`, and `ttad eval --endpoint` collects the
# predictions and reports the latency percentiles of `latency_s` (arrival -> published).
#
#   tools/live_latency.sh [OUT] [RATE] [PER_DOMAIN]     # defaults /tmp/ttad-latency, 60/s, 150
#   PRESETS="ttad rotta stamp tda" tools/live_latency.sh  # which presets besides frozen (default: ttad)
#   TTAD=path/to/ttad tools/live_latency.sh             # a release binary built already (no build)
#
# Prints one line per preset: p50/p90/p99/max latency and the ratio to frozen's, and for adapting
# presets what the adaptation worker did meanwhile (steps, samples it dropped under its CPU
# budget, samples it paused for), read from the daemon's /metrics before it stops.
#   EXTRA='worker_cpu_budget = 1' tools/live_latency.sh   # extra [adaptation] keys for the adapting presets
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-latency}
RATE=${2:-60}
PER=${3:-150}
PRESETS=${PRESETS:-ttad}
if [[ -n ${TTAD:-} ]]; then T=$TTAD; else swift build -c release --product ttad >&2; T=.build/release/ttad; fi
mkdir -p "$OUT"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for p in frozen $PRESETS; do
  pin=$(port); pout=$(port); pm=$(port)
  extra=""; [[ $p != frozen ]] && extra=${EXTRA:-}
  tools/preset_config.sh "$p" "$extra" | sed \
      -e "s|^endpoints = \[\"tcp://127.0.0.1:7755\"\]|endpoints = [\"tcp://127.0.0.1:$pin\"]|" \
      -e "s|^endpoints = \[\"tcp://127.0.0.1:7756\"\]|endpoints = [\"tcp://127.0.0.1:$pout\"]|" \
      -e "s|^port = 7757|port = $pm|" > "$OUT/$p.toml"
  rm -rf "$OUT/state-$p"
  "$T" run --config "$OUT/$p.toml" --state-dir "$OUT/state-$p" > "$OUT/$p-daemon.log" 2>&1 &
  daemon=$!
  sleep 3
  n=$((PER * 10))
  "$T" eval --endpoint "tcp://127.0.0.1:$pout" --count "$n" --only-stream lat --json "$OUT/$p.json" > "$OUT/$p-eval.log" 2>&1 &
  ev=$!
  sleep 1
  "$T" stream --endpoint "tcp://127.0.0.1:$pin" --scenario continual --per-domain "$PER" --rate "$RATE" --stream lat \
    > "$OUT/$p-stream.log" 2>&1
  wait $ev || true
  curl -s "http://127.0.0.1:$pm/metrics" > "$OUT/$p.metrics" || true
  kill -TERM $daemon; wait $daemon || true
done
python3 - "$OUT" "$RATE" frozen $PRESETS <<'EOF'
import json, sys, os
out, rate = sys.argv[1], float(sys.argv.pop(2))
ref = None
def series(p, name):
    try:
        for line in open(os.path.join(out, p + ".metrics")):
            if line.startswith(name + " "):
                return float(line.split()[-1])
    except OSError:
        pass
    return None
for p in sys.argv[2:]:
    r = json.load(open(os.path.join(out, p + ".json")))
    l = r["latency"]
    if ref is None:
        ref = l
    print(f"{p:7s} n={l['count']:5d}  p50 {1e3 * l['p50']:.1f} ms  p90 {1e3 * l['p90']:.1f} ms  p99 {1e3 * l['p99']:.1f} ms  "
          f"max {1e3 * l['max']:.1f} ms  (p50 x{l['p50'] / ref['p50']:.2f}, p90 x{l['p90'] / ref['p90']:.2f}, "
          f"p99 x{l['p99'] / ref['p99']:.2f})  accuracy {100 * r['accuracy']:.1f} %")
    if p != "frozen":
        steps, dropped, paused, observed = (series(p, "ttad_adaptation_" + n) for n in
                                            ("steps_total", "dropped_samples_total", "paused_samples_total", "observed_samples_total"))
        minutes = l['count'] / rate / 60  # how long the stream ran at the fixed rate
        print(f"        adaptation: {steps:.0f} steps ({steps / minutes:.0f} per minute), {observed:.0f} samples observed, {dropped:.0f} dropped under the worker's "
              f"CPU budget, {paused:.0f} paused by the label gate" if steps is not None else "        (no metrics read)")
EOF
