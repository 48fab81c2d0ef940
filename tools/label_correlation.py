#!/usr/bin/env python3
"""The label gate's statistic on recorded predictions: how often it would pause adaptation.

Reads predictions TSVs written by `ttad eval --predictions-file` (columns id, label, predicted,
...), in stream order, and computes what `LabelCorrelationGate` computes on the frozen model's
predicted classes: over a sliding window of W classes, the rate of equal neighbours minus the
sum of squared class shares (about 0 for an exchangeable stream, large when classes come in
runs). Prints, per file and window, the distribution of that excess and the fraction of full
windows above each threshold, which is how the defaults (W 2048, threshold 0.15) were chosen:

    tools/label_correlation.py /tmp/ttad-presets/frozen-{continual,gradual,label-correlated,outliers}.tsv
"""
import argparse
import csv
from collections import deque


def excesses(classes, window):
    hist = {}
    ring = deque()
    repeats = 0
    out = []
    for c in classes:
        if len(ring) == window:
            oldest = ring.popleft()
            hist[oldest] -= 1
            if ring and ring[0] == oldest:
                repeats -= 1
        if ring and ring[-1] == c:
            repeats += 1
        ring.append(c)
        hist[c] = hist.get(c, 0) + 1
        if len(ring) == window:
            out.append(repeats / (window - 1) - sum((n / window) ** 2 for n in hist.values()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tsv", nargs="+", help="predictions files (frozen preset)")
    ap.add_argument("--windows", default="1024,2048", help="comma-separated window lengths")
    ap.add_argument("--thresholds", default="0.1,0.12,0.15,0.2")
    args = ap.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    for path in args.tsv:
        with open(path) as f:
            classes = [row["predicted"] for row in csv.DictReader(f, delimiter="\t")]
        for w in (int(x) for x in args.windows.split(",")):
            ex = sorted(excesses(classes, w))
            if not ex:
                print(f"{path} W {w}: fewer samples than the window")
                continue
            n = len(ex)
            above = "  ".join(f">{t:g}: {sum(e > t for e in ex) / n:.2f}" for t in thresholds)
            print(f"{path} W {w}: {len(classes)} samples; excess median {ex[n // 2]:.3f}, "
                  f"p90 {ex[int(0.9 * n)]:.3f}, max {ex[-1]:.3f}; fraction of windows {above}")


if __name__ == "__main__":
    main()
