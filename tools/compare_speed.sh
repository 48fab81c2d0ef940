#!/usr/bin/env bash
# Deterministic-mode throughput of two ttad binaries side by side, interleaved (A B A B …) in one
# run so that machine noise hits both alike; checks that both give identical predictions and
# prints each run's samples/s and the ratio of the medians.
#
#   tools/compare_speed.sh OLD_BINARY NEW_BINARY [PRESET] [ROUNDS] [PER_DOMAIN]
#   e.g. git worktree add /tmp/old f01778b && (cd /tmp/old && swift build -c release --product ttad)
#        tools/compare_speed.sh /tmp/old/.build/release/ttad .build/release/ttad ttad 3 100
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2 PRESET=${3:-ttad} ROUNDS=${4:-3} PER_DOMAIN=${5:-100}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tools/preset_config.sh "$PRESET" > "$WORK/c.toml"
run() {   # binary tag round -> prints samples/s
  "$1" eval --config "$WORK/c.toml" --scenario continual --per-domain "$PER_DOMAIN" \
      --predictions-file "$WORK/$2-$3.tsv" 2>/dev/null | sed -n 's/.*; \([0-9.]*\) samples\/s$/\1/p'
}
old=() new=()
for r in $(seq 1 "$ROUNDS"); do
  old+=("$(run "$OLD" old "$r")")
  new+=("$(run "$NEW" new "$r")")
  cmp -s "$WORK/old-$r.tsv" "$WORK/new-$r.tsv" || { echo "round $r: predictions differ" >&2; exit 1; }
done
python3 - "$PRESET" "${old[*]}" "${new[*]}" <<'EOF'
import statistics, sys
preset, old, new = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
mo, mn = statistics.median(old), statistics.median(new)
print(f"preset {preset}: old {old} samples/s, new {new} samples/s (identical predictions)")
print(f"median old {mo:.1f}, new {mn:.1f}: new/old = {mn / mo:.2f}x")
EOF
