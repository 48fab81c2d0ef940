#!/usr/bin/env python3
"""Paired comparison of two `ttad eval --predictions-file` runs of the same scenario (same seed):
an adaptation preset against the frozen model, sample by sample.

    python3 tools/compare_predictions.py FROZEN.tsv ADAPTED.tsv [--last N] [--json OUT]

Prints, on the known-class samples (labels 0..C-1; outliers are left out of accuracy):
- overall accuracy of both and the paired difference with a 95 % confidence interval
  (d_i = correct_adapted - correct_frozen; mean +- 1.96 * sd / sqrt(n));
- per domain (the id's part before '|'): both accuracies and the difference;
- per domain, the share of the most-predicted class for both, and the largest excess of the
  adapted run's share over the frozen run's (the "no class takes over" check);
- with --last N, the same over the last N samples of the stream only;
- for a camera group (`--scenario cameras`, ids `<camera>/<domain>|<position>`): per camera the
  paired difference, and the mean of the per-camera differences with its 95 % CI (cameras
  weighted equally: sum over cameras of var_s / (S^2 n_s));
- with --first N[,N...], the same over the first N samples of the stream (the warm-up check:
  what adaptation costs or gains before the stream has shown what it is).
"""
import argparse
import json
import math
from collections import Counter, defaultdict


def read(path):
    rows = {}
    order = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {k: i for i, k in enumerate(header)}
        for line in f:
            p = line.rstrip("\n").split("\t")
            rid = p[col["id"]]
            label = p[col["label"]]
            pred = p[col["predicted"]]
            rows[rid] = (int(label) if label else None, int(pred) if pred else None)
            order.append(rid)
    return rows, order


def position(rid):
    return int(rid.rsplit("|", 1)[1])


def paired(frozen, adapted, ids, classes):
    d, fa, aa = [], [], []
    for i in ids:
        label = frozen[i][0]
        if label is None or label >= classes:
            continue
        f = int(frozen[i][1] == label)
        a = int(adapted[i][1] == label)
        fa.append(f)
        aa.append(a)
        d.append(a - f)
    n = len(d)
    if n == 0:
        return None
    mean = sum(d) / n
    var = sum((x - mean) ** 2 for x in d) / max(1, n - 1)
    half = 1.96 * math.sqrt(var / n)
    return dict(n=n, frozen=sum(fa) / n, adapted=sum(aa) / n, delta=mean, ci95=half)


def top_share(preds):
    if not preds:
        return float("nan")
    return Counter(preds).most_common(1)[0][1] / len(preds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("frozen")
    ap.add_argument("adapted")
    ap.add_argument("--classes", type=int, default=8)
    ap.add_argument("--last", type=int, default=0, help="also compare the last N samples of the stream")
    ap.add_argument("--first", default="", help="also compare the first N samples (comma-separated list of N)")
    ap.add_argument("--json", help="write the comparison here")
    a = ap.parse_args()
    frozen, _ = read(a.frozen)
    adapted, _ = read(a.adapted)
    common = sorted(set(frozen) & set(adapted), key=position)
    missing = len(set(frozen) ^ set(adapted))
    if missing:
        print(f"warning: {missing} ids are in only one of the runs; comparing the {len(common)} in both")
    out = dict(overall=paired(frozen, adapted, common, a.classes), domains={})
    by_domain = defaultdict(list)
    for i in common:
        by_domain[i.rsplit("|", 1)[0]].append(i)
    worst_excess = -1.0
    for dom, ids in by_domain.items():
        r = paired(frozen, adapted, ids, a.classes) or {}
        fs = top_share([frozen[i][1] for i in ids if frozen[i][1] is not None])
        ad = top_share([adapted[i][1] for i in ids if adapted[i][1] is not None])
        r.update(top_share_frozen=fs, top_share_adapted=ad)
        worst_excess = max(worst_excess, ad - fs)
        out["domains"][dom] = r
    out["max_top_share_excess"] = worst_excess
    by_stream = defaultdict(list)
    for i in common:
        dom = i.rsplit("|", 1)[0]
        if "/" in dom:
            by_stream[dom.split("/", 1)[0]].append(i)
    if by_stream:
        out["streams"] = {st: paired(frozen, adapted, ids, a.classes) for st, ids in by_stream.items()}
        rs = [r for r in out["streams"].values() if r]
        S = len(rs)
        mean = sum(r["delta"] for r in rs) / S
        half = 1.96 * math.sqrt(sum((r["ci95"] / 1.96) ** 2 for r in rs)) / S
        out["mean_stream_delta"] = dict(streams=S, delta=mean, ci95=half,
                                        worst=min(r["delta"] for r in rs))
    if a.last:
        out["last"] = dict(samples=a.last, **(paired(frozen, adapted, common[-a.last:], a.classes) or {}))

    firsts = [int(x) for x in a.first.split(",") if x]
    if firsts:
        out["first"] = [dict(samples=k, **(paired(frozen, adapted, common[:k], a.classes) or {})) for k in firsts]

    o = out["overall"]
    print(f"{o['n']} known-class samples: frozen {100 * o['frozen']:.2f} %, adapted {100 * o['adapted']:.2f} %, "
          f"delta {100 * o['delta']:+.2f} +- {100 * o['ci95']:.2f} points (95 % CI, paired)")
    print(f"{'domain':<22} {'n':>6} {'frozen':>7} {'adapted':>8} {'delta':>7}  top share frozen/adapted")
    for dom, r in out["domains"].items():
        if "n" not in r:
            continue
        print(f"{dom:<22} {r['n']:>6} {100 * r['frozen']:>6.1f}% {100 * r['adapted']:>7.1f}% {100 * r['delta']:>+6.1f}  "
              f"{r['top_share_frozen']:.2f}/{r['top_share_adapted']:.2f}")
    print(f"largest excess of the adapted top-class share over frozen's in a domain: {worst_excess:+.3f}")
    if "streams" in out:
        for st, r in out["streams"].items():
            if r:
                print(f"stream {st:<15} {r['n']:>6} {100 * r['frozen']:>6.1f}% {100 * r['adapted']:>7.1f}% "
                      f"{100 * r['delta']:>+6.2f} +- {100 * r['ci95']:.2f}")
        m = out["mean_stream_delta"]
        print(f"mean per-stream delta over {m['streams']} streams: {100 * m['delta']:+.2f} +- {100 * m['ci95']:.2f} points "
              f"(95 % CI); worst stream {100 * m['worst']:+.2f}")
    if a.last and "n" in out["last"]:
        l = out["last"]
        print(f"last {a.last} samples: frozen {100 * l['frozen']:.2f} %, adapted {100 * l['adapted']:.2f} %, "
              f"delta {100 * l['delta']:+.2f} +- {100 * l['ci95']:.2f}")
    for f in out.get("first", []):
        if "n" in f:
            print(f"first {f['samples']} samples: frozen {100 * f['frozen']:.2f} %, adapted {100 * f['adapted']:.2f} %, "
                  f"delta {100 * f['delta']:+.2f} +- {100 * f['ci95']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
