#!/usr/bin/env bash
# Expected calibration error of frozen and `ttad` on a tenth of three streams (the bundled model,
# deterministic `ttad eval`): the table of docs/benchmarks.md ("Calibration").
#   tools/calibration_runs.sh [OUT]     # default OUT=/tmp/ttad-calibration
#   EXTRA='calibration_rate = 0.1' tools/calibration_runs.sh OUT   # extra [adaptation] keys
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-calibration}
# TTAD=path/to/ttad uses that binary instead of building one.
if [[ -z ${TTAD:-} ]]; then swift build -c release --product ttad >&2; fi
T=${TTAD:-.build/release/ttad}
mkdir -p "$OUT"
SCENARIOS=(
  "clean|--scenario clean --limit 2000"
  "continual|--scenario continual --per-domain 200"
  "label-correlated|--scenario continual --per-domain 200 --gamma 0.1"
)
for p in frozen ttad; do
  tools/preset_config.sh "$p" "${EXTRA:-}" > "$OUT/$p.toml"
  for s in "${SCENARIOS[@]}"; do
    n=${s%%|*}
    # shellcheck disable=SC2086
    "$T" eval --config "$OUT/$p.toml" --strict --timeout 120 --json "$OUT/$p-$n.json" ${s#*|} > "$OUT/$p-$n.log" 2>&1
  done
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print("| scenario | preset | accuracy % | ECE (15 bins) | worst domain's ECE |")
print("|---|---|---:|---:|---|")
for n in ["clean", "continual", "label-correlated"]:
    for p in ["frozen", "ttad"]:
        r = json.load(open(f"{out}/{p}-{n}.json"))
        w = max(r["domains"], key=lambda d: d.get("ece") or 0)
        print(f"| {n} | {p} | {100 * r['accuracy']:.2f} | {r['ece']:.4f} | {w['domain']} {w['ece']:.4f} |")
PY
