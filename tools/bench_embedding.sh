#!/usr/bin/env bash
# End-to-end throughput of the embedding path through real sockets: 512-d embeddings, 1000
# classes, PULL ingest, PUB output, the daemon pinned to one core and the load generator to the
# other. Prints samples/s and the daemon's memory over the run (docs/benchmarks.md).
#   tools/bench_embedding.sh [SAMPLES] [MAX_BATCH]
#   PRESET=dota tools/bench_embedding.sh 1000000 256    # with an embedding-mode preset (default frozen)
#   CLASSES=8 DIM=128 tools/bench_embedding.sh             # the bundled model's shape (default 1000 × 512)
#   TTAD_BIN=.build-release/release/ttad tools/bench_embedding.sh   # use this binary, do not build
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
SAMPLES=${1:-1000000}
BATCH=${2:-256}
PRESET=${PRESET:-frozen}
CLASSES=${CLASSES:-1000}
DIM=${DIM:-512}
if [[ -n ${TTAD_BIN:-} ]]; then
  BIN=$TTAD_BIN
else
  swift build -c release --product ttad >/dev/null
  BIN=.build/release/ttad
fi
work=$(mktemp -d)
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
python3 tools/make_class_embeddings.py random --classes "$CLASSES" --dim "$DIM" --seed 3 --dtype f16 \
  --out "$work/classes.safetensors" >/dev/null
cat > "$work/bench.toml" <<TOML
[daemon]
state_directory = "$work/state"
[ingest]
endpoints = ["ipc://$work/in.sock"]
queue_capacity = 4096
[publish]
endpoints = ["ipc://$work/out.sock"]
send_high_water_mark = 0
[classifier]
class_embeddings = "classes.safetensors"
max_batch = $BATCH
[metrics]
enabled = false
[state]
checkpoint_every_s = 3600
[adaptation]
preset = "$PRESET"
TOML
echo "preset: $PRESET, $CLASSES classes × $DIM"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "== in-process ceiling (no sockets), core 0 =="
taskset -c 0 "$BIN" bench-classify --classes "$CLASSES" --dim "$DIM" --batches "1,64,$BATCH"
echo "== end to end through ZeroMQ: daemon on core 0, load generator on core 1, max_batch $BATCH =="
taskset -c 0 "$BIN" run --config "$work/bench.toml" --log-level warning &
daemon=$!
sleep 1
taskset -c 1 "$BIN" loadgen --ingest "ipc://$work/in.sock" --publish "ipc://$work/out.sock" \
  --dim "$DIM" --count "$SAMPLES" --pid "$daemon"
kill -TERM $daemon
wait $daemon
echo "daemon exited with $?"
