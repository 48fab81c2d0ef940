#!/usr/bin/env bash
# Accuracy of the bundled model with the image tower in F32 and in int8 ([model] precision), on
# the same scenario through the real daemon (`ttad eval --config`, deterministic), paired per
# sample: both accuracies, their difference with a 95 % interval from the paired differences,
# and how often the two precisions predict the same class.
#
#   tools/int8_accuracy.sh [OUT] [PRESET] [eval scenario options...]
#   tools/int8_accuracy.sh /tmp/ttad-int8 frozen --scenario clean
#   tools/int8_accuracy.sh /tmp/ttad-int8-cont frozen --scenario continual --per-domain 2000
#   TTAD=.build-release/release/ttad tools/int8_accuracy.sh ...   # another binary
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-int8}; PRESET=${2:-frozen}; shift 2 || true
[[ $# -gt 0 ]] || set -- --scenario clean
T=${TTAD:-.build/release/ttad}
[[ -x $T ]] || { swift build -c release --product ttad >&2; T=.build/release/ttad; }
mkdir -p "$OUT"
for p in f32 int8; do
  tools/preset_config.sh "$PRESET" | sed -e "s|^prompt_template = .*|&\nprecision = \"$p\"|" > "$OUT/$p.toml"
  echo "== $p: $T eval --config $OUT/$p.toml $*" >&2
  "$T" eval --config "$OUT/$p.toml" --strict --json "$OUT/$p.json" --predictions-file "$OUT/$p.tsv" "$@" > "$OUT/$p.log" 2>&1
  tail -1 "$OUT/$p.log" >&2
done
python3 - "$OUT" <<'PY'
import math, sys
out = sys.argv[1]
def load(p):
    rows = {}
    for line in open(f"{out}/{p}.tsv"):
        f = line.rstrip("\n").split("\t")
        if not f or f[0] in ("id", "") or f[0].startswith("#"):
            continue
        rows[f[0]] = (f[1], f[2])
    return rows
a, b = load("f32"), load("int8")
ids = [i for i in a if i in b and a[i][0] != "" and int(a[i][0]) < 8]
n = len(ids)
ca = [a[i][1] == a[i][0] for i in ids]
cb = [b[i][1] == b[i][0] for i in ids]
d = [int(y) - int(x) for x, y in zip(ca, cb)]
mean = sum(d) / n
sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1)) if n > 1 else 0
half = 1.96 * sd / math.sqrt(n)
agree = sum(a[i][1] == b[i][1] for i in ids) / n
print(f"samples {n}: f32 {100*sum(ca)/n:.2f} %, int8 {100*sum(cb)/n:.2f} %, "
      f"int8 - f32 {100*mean:+.2f} points (95 % CI {100*(mean-half):+.2f} to {100*(mean+half):+.2f}), "
      f"same prediction {100*agree:.2f} %")
PY
