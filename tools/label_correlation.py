#!/usr/bin/env python3
"""The label gate's statistic on recorded predictions: how often it would pause adaptation.

Reads predictions TSVs written by `ttad eval --predictions-file` (columns id, label, predicted,
...), in stream order, and computes what `LabelCorrelationGate` computes on the frozen model's
predicted classes: over a sliding window of W classes, the rate of equal neighbours minus the
sum of squared class shares (about 0 for an exchangeable stream, large when classes come in
runs). Prints, per file and window, the distribution of that excess and the fraction of full
windows above each threshold, which is how the defaults (W 2048, threshold 0.15) were chosen:

    tools/label_correlation.py /tmp/ttad-presets/frozen-{continual,gradual,label-correlated,outliers}.tsv

With --gate it instead runs the whole gate as `LabelCorrelationGate` does (warm-up included:
closed from the first sample until the samples so far show an excess ≤ --mixed-below over at
least --mixed-classes effective classes, after at least --warmup samples) and prints when it
first opened, how many samples it held closed and how often it closed after having been open:

    tools/label_correlation.py --gate /tmp/ttad-presets/frozen-*.tsv
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


def gate(classes, window, threshold, reopen, warmup, mixed_below, mixed_classes):
    """(first open sample or None, closed samples, warm-up samples, closures, closed spans)."""
    hist = {}
    ring = deque()
    repeats = 0
    closed = warmup > 0
    opened = not closed
    first_open = 0 if opened else None
    n_closed = n_warm = closures = 0
    spans = []
    for t, c in enumerate(classes):
        if len(ring) == window:
            oldest = ring.popleft()
            hist[oldest] -= 1
            if ring and ring[0] == oldest:
                repeats -= 1
        if ring and ring[-1] == c:
            repeats += 1
        ring.append(c)
        hist[c] = hist.get(c, 0) + 1
        n = len(ring)
        was = closed
        if n == window:
            e = repeats / (n - 1) - sum((k / n) ** 2 for k in hist.values())
            closed = e >= reopen if closed else e > threshold
        elif warmup > 0 and n >= warmup:
            sq = sum((k / n) ** 2 for k in hist.values())
            e = repeats / (n - 1) - sq
            closed = not (e <= mixed_below and 1 / sq >= mixed_classes) if closed else e > threshold
        if not closed and not opened:
            opened, first_open = True, t
        if closed:
            n_closed += 1
            if not opened:
                n_warm += 1
            if not was:
                closures += 1
                spans.append([t, t])
            elif spans and spans[-1][1] == t - 1:
                spans[-1][1] = t
    return first_open, n_closed, n_warm, closures, spans


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tsv", nargs="+", help="predictions files (frozen preset)")
    ap.add_argument("--windows", default="1024,2048", help="comma-separated window lengths")
    ap.add_argument("--thresholds", default="0.1,0.12,0.15,0.2")
    ap.add_argument("--gate", action="store_true", help="run the whole gate (window = first of --windows)")
    ap.add_argument("--threshold", type=float, default=0.15)
    ap.add_argument("--reopen", type=float, default=0.10)
    ap.add_argument("--warmup", type=int, default=128)
    ap.add_argument("--mixed-below", type=float, default=0.05)
    ap.add_argument("--mixed-classes", type=float, default=3)
    args = ap.parse_args()
    if args.gate:
        w = int(args.windows.split(",")[-1])
        for path in args.tsv:
            with open(path) as f:
                classes = [row["predicted"] for row in csv.DictReader(f, delimiter="\t")]
            first, n_closed, n_warm, closures, spans = gate(classes, w, args.threshold, args.reopen, args.warmup,
                                                            args.mixed_below, args.mixed_classes)
            shown = ", ".join(f"{a}-{b}" for a, b in spans[:5])
            print(f"{path}: {len(classes)} samples; first open at {first}; closed {n_closed} "
                  f"(warm-up {n_warm}); closures {closures}" + (f" at {shown}" if spans else ""))
        return
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
