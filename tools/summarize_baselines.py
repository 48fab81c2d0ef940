#!/usr/bin/env python3
"""Markdown tables from the reports of tools/frozen_baselines.sh (one `ttad eval --json` per run).

    python3 tools/summarize_baselines.py OUT_DIR > baselines.md

Prints the damage profile (accuracy per corruption and severity), the graded-shift check at
severity 5 (how many corruptions leave the model within 3 points of clean, how many send it to
chance), and one row per scenario (accuracy, mean entropy, outlier AUROC, H-score, speed).
"""
import json
import os
import sys

CORRUPTIONS = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "motion_blur", "contrast",
               "brightness", "pixelate", "jpeg_compression", "fog"]
CLASSES = 8
CHANCE = 1 / CLASSES
NEAR_CLEAN = 0.03          # "within 3 points of clean"
AT_CHANCE = CHANCE + 0.05  # "sent to chance": at most 5 points above 1/C


def load(out, name):
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def pct(v):
    return "–" if v is None else f"{100 * v:.1f}"


def main():
    out = sys.argv[1]
    clean = load(out, "clean")
    lines = []
    p = lines.append
    if clean:
        p(f"Clean (8 known classes, {clean['known']:,} test images): **{pct(clean['accuracy'])} %**, "
          f"mean entropy {clean['mean_entropy']:.3f} nats.\n")
    p("| corruption | sev 1 | sev 2 | sev 3 | sev 4 | sev 5 |")
    p("|---|---|---|---|---|---|")
    sev5 = {}
    for c in CORRUPTIONS:
        cells = []
        for s in range(1, 6):
            r = load(out, f"single-{c}-{s}")
            cells.append(pct(r["accuracy"]) if r else "–")
            if s == 5 and r:
                sev5[c] = r["accuracy"]
        p(f"| {c} | " + " | ".join(cells) + " |")
    if clean and sev5:
        base = clean["accuracy"]
        near = [c for c, a in sev5.items() if a >= base - NEAR_CLEAN]
        chance = [c for c, a in sev5.items() if a <= AT_CHANCE]
        mean5 = sum(sev5.values()) / len(sev5)
        p("")
        p(f"Severity 5: mean {pct(mean5)} % (clean {pct(base)} %). Within 3 points of clean: "
          f"{len(near)} ({', '.join(near) or 'none'}); at chance (≤ {pct(AT_CHANCE)} %, chance {pct(CHANCE)} %): "
          f"{len(chance)} ({', '.join(chance) or 'none'}). Graded as required (at most two of each): "
          f"**{'yes' if len(near) <= 2 and len(chance) <= 2 else 'no'}**.")
    p("")
    p("| scenario | samples | accuracy % | worst domain % | mean entropy | outlier AUROC | H-score % |")
    p("|---|---|---|---|---|---|---|")
    for name, label in [("clean", "clean"), ("continual", "continual (10 corruptions at sev 5, 2,000 each)"),
                        ("gradual", "gradual (sev 1→5→1 per corruption, 200 per step)"),
                        ("label-correlated", "continual, label-correlated (γ = 0.1)"),
                        ("outliers", "continual + 10 % outliers"), ("long", "long (continual cycled to 10⁶)")]:
        r = load(out, name)
        if not r:
            continue
        o = r.get("outliers", {})
        auroc = f"{o['auroc']:.3f}" if o.get("auroc") is not None else "–"
        accs = [d["accuracy"] for d in r.get("domains", []) if d.get("accuracy") is not None]
        worst = pct(min(accs)) if len(accs) > 1 else "–"
        p(f"| {label} | {r['predictions']:,} | {pct(r['accuracy'])} | {worst} | {r['mean_entropy']:.3f} | {auroc} | "
          f"{pct(o.get('h_score'))} |")
    cont = load(out, "continual")
    if cont:
        p("")
        p("Continual, per domain (in stream order):\n")
        p("| " + " | ".join(d["domain"] for d in cont["domains"]) + " |")
        p("|" + "---|" * len(cont["domains"]))
        p("| " + " | ".join(pct(d["accuracy"]) for d in cont["domains"]) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
