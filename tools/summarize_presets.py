#!/usr/bin/env python3
"""The preset table of docs/benchmarks.md from the runs of tools/preset_runs.sh.

    python3 tools/summarize_presets.py OUT PRESET... > presets.md

One row per preset and scenario: accuracy, the paired difference to frozen with its 95 % CI, the
largest excess of the preset's most-predicted-class share over frozen's in any domain, outlier
AUROC, H-score, samples/s and adaptation steps/s; then, per preset, the per-domain differences
on the continual scenario.
"""
import json
import os
import re
import sys

SCENARIOS = [("clean", "clean"), ("continual", "continual"), ("gradual", "gradual"),
             ("label-correlated", "label-correlated γ 0.1"), ("outliers", "continual + 10 % outliers")]


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def steps_per_second(log):
    if not os.path.exists(log):
        return None, None
    text = open(log).read()
    m = re.search(r"adaptation: preset \S+, (\d+) steps \(([\d.]+) steps/s\), (\d+) resets", text)
    return (float(m.group(2)), int(m.group(3))) if m else (None, None)


def pct(v):
    return "–" if v is None else f"{100 * v:.1f}"


def main():
    out, presets = sys.argv[1], ["frozen"] + [p for p in sys.argv[2:] if p != "frozen"]
    p = print
    p("| preset | scenario | accuracy % | Δ vs frozen (95 % CI), points | max top-class share excess | "
      "outlier AUROC | H-score % | samples/s | steps/s | resets |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for name, label in SCENARIOS:
        for preset in presets:
            r = load(os.path.join(out, f"{preset}-{name}.json"))
            if not r:
                continue
            c = load(os.path.join(out, f"{preset}-{name}.compare.json"))
            delta = excess = "–"
            if c and c.get("overall"):
                o = c["overall"]
                delta = f"{100 * o['delta']:+.2f} ± {100 * o['ci95']:.2f}"
                excess = f"{c['max_top_share_excess']:+.3f}"
            elif preset == "frozen":
                delta = excess = "(reference)"
            o = r.get("outliers", {})
            auroc = f"{o['auroc']:.3f}" if o.get("auroc") is not None else "–"
            sps = r.get("samples_per_second")
            rate, resets = steps_per_second(os.path.join(out, f"{preset}-{name}.log"))
            p(f"| {preset} | {label} | {pct(r['accuracy'])} | {delta} | {excess} | {auroc} | {pct(o.get('h_score'))} | "
              f"{'–' if sps is None else f'{sps:.0f}'} | {'–' if rate is None else f'{rate:.2f}'} | "
              f"{'–' if resets is None else resets} |")
    for preset in presets[1:]:
        c = load(os.path.join(out, f"{preset}-continual.compare.json"))
        if not c:
            continue
        doms = [(d, v) for d, v in c["domains"].items() if "n" in v]
        p("")
        p(f"`{preset}` on the continual scenario, per domain in stream order (accuracy %, frozen → {preset}):\n")
        p("| " + " | ".join(d for d, _ in doms) + " |")
        p("|" + "---|" * len(doms))
        p("| " + " | ".join(f"{pct(v['frozen'])} → {pct(v['adapted'])}" for _, v in doms) + " |")


if __name__ == "__main__":
    main()
