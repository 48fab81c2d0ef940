#!/usr/bin/env python3
"""PyTorch side of the side-by-side CLIP benchmark (the reference ttad's Swift/OpenBLAS path is compared to).

Install (one line):
    python3 -m venv V && V/bin/pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu && V/bin/pip install "transformers<5"
  On the ttad dev VM the packages come from the local pip mirror (download.pytorch.org is not
  reachable): drop the --index-url, i.e. V/bin/pip install torch==2.13.0+cpu "transformers<5".
  Keep torchvision out of V: a torchvision whose C ops do not match the torch build makes
  transformers fail on `import CLIPModel` ("operator torchvision::nms does not exist").
Run (from the repository root; ~7 min for b32 with text at the defaults, the 1000 prompts padded to
77 being most of it; the text tower is the same for b16, so add --skip-text there):
    V/bin/python tools/bench_clip_torch.py --shape b32 --threads 1 --json /tmp/torch_b32.json
    V/bin/python tools/bench_clip_torch.py --shape b16 --threads 1 --min-seconds 1 --skip-text
  Nothing else should run meanwhile (a swift build on the other core moves these numbers by 30-50%).

What it measures, for a CLIP ViT-B/32 (`--shape b32`, CLIPConfig() defaults = openai/clip-vit-base-patch32)
or ViT-B/16 (`--shape b16`, same with patch 16) with seeded random weights, float32, eval, inference_mode:
  * images/s of get_image_features at batch 1 and 8 (random pixels; weights do not change the cost);
  * text embeddings/s of get_text_features over 1000 deterministic prompts "a photo of a {name}.",
    tokenized with the real CLIP BPE from Tests/TTADModelTests/Fixtures/clip-tokenizer, once padded to
    77 (padding="max_length", what the reference code does) and once padded only to each batch's
    longest prompt; tokenization is done up front and is not timed;
  * analytic forward matmul FLOPs (2 per multiply-add) and the GFLOP/s achieved;
  * torch.mm sgemm GFLOP/s at each linear-layer shape of each call, with B row-major [k x n] and with
    B = W^T (the nn.Linear layout), i.e. the practical roofline at that thread count, and how close
    each call comes to it (% of gemm-bound, see main()).
Timing: warm-up, then repeat until >= --min-seconds and >= 3 reps; median and best per call (perf_counter).
Note: torch's CPU wheel does its GEMMs with MKL/oneDNN, not OpenBLAS. The text model gets the
tokenizer's attention_mask as transformers users pass it; with the causal mask and pooling at the first
end token the padding cannot change the embedding either way.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

T_START = time.perf_counter()  # before the (slow, several-second) torch/transformers imports

# A torchvision whose C ops do not match the torch build breaks `from transformers import
# CLIPModel`; nothing here needs it, so hide it from transformers' optional-import probe.
sys.modules.setdefault("torchvision", None)

import torch
import transformers
from transformers import CLIPConfig, CLIPModel

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_DIR = os.path.join(REPO_ROOT, "Tests", "TTADModelTests", "Fixtures", "clip-tokenizer")
NUM_PROMPTS = 1000
IMAGE_BATCHES = (1, 8)

# Deterministic synthetic class names of varying token length, so "longest" padding differs from 77.
ADJECTIVES = ["red", "small", "striped", "wooden", "ancient", "shiny", "folded", "electric",
              "tropical", "miniature", "rusty", "transparent"]
NOUNS = ["widget", "bird", "teapot", "bicycle", "lantern", "mountain goat", "sailing boat",
         "umbrella", "violin", "armchair", "cactus", "lighthouse", "pocket watch"]


def class_names(n):
    return [f"{ADJECTIVES[i % len(ADJECTIVES)]} {NOUNS[(i // len(ADJECTIVES)) % len(NOUNS)]} {i}"
            for i in range(n)]


def bench(fn, min_seconds, warmup=2, min_reps=3):
    """Call fn() warmup times untimed, then until min_seconds and min_reps; return (median, best) seconds."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def encoder_flops(tokens, hidden, inter, layers):
    """Matmul FLOPs of one pre-LN transformer stack on one sequence of `tokens` positions.
    q,k,v,o projections: 4 * T*D*D MACs; QK^T and AV: T*T*D MACs each (summed over heads,
    full square even where a causal mask discards half, as the kernels compute it); MLP: 2 * T*D*I MACs."""
    macs = 4 * tokens * hidden * hidden + 2 * tokens * tokens * hidden + 2 * tokens * hidden * inter
    return 2 * layers * macs


def image_flops(vc, proj_dim):
    patches = (vc.image_size // vc.patch_size) ** 2
    patch_conv = 2 * patches * (3 * vc.patch_size ** 2) * vc.hidden_size  # conv == [P x 3p^2] x [3p^2 x D]
    stack = encoder_flops(patches + 1, vc.hidden_size, vc.intermediate_size, vc.num_hidden_layers)
    projection = 2 * vc.hidden_size * proj_dim  # only the pooled CLS token is projected
    return patch_conv + stack + projection


def text_flops(tc, proj_dim, length):
    # Token/position embeddings are lookups (no FLOPs); only the pooled EOS token is projected.
    return encoder_flops(length, tc.hidden_size, tc.intermediate_size, tc.num_hidden_layers) \
        + 2 * tc.hidden_size * proj_dim


def sgemm_gflops(m, k, n, min_seconds, transposed_b):
    """torch.mm rate for [m x k] x [k x n]. transposed_b: B is the .t() view of a row-major [n x k]
    weight -- the layout nn.Linear (and ttad's Linear, sgemm transB) hands to the BLAS; for small m
    MKL's speed differs by up to ~2x between the two layouts, so both are reported."""
    g = torch.Generator().manual_seed(1)
    a = torch.randn(m, k, generator=g)
    b = torch.randn(n, k, generator=g).t() if transposed_b else torch.randn(k, n, generator=g)
    out = torch.empty(m, n)
    med, best = bench(lambda: torch.mm(a, b, out=out), min_seconds, warmup=3)
    return 2 * m * k * n / med / 1e9, 2 * m * k * n / best / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=["b32", "b16"], default="b32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-seconds", type=float, default=3.0)
    ap.add_argument("--text-batch", type=int, default=100)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--skip-text", action="store_true")
    args = ap.parse_args()

    # Interop threads must be set before any parallel work starts; 1 so only --threads cores do math.
    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)

    config = CLIPConfig()  # defaults are exactly openai/clip-vit-base-patch32 (quick_gelu, 77 positions, ...)
    if args.shape == "b16":
        config.vision_config.patch_size = 16
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    vc, tc, proj = config.vision_config, config.text_config, config.projection_dim

    res = {"impl": "torch", "shape": args.shape, "threads": args.threads,
           "torch": torch.__version__, "transformers": transformers.__version__,
           "attn_implementation": model.config._attn_implementation}
    img_flop = image_flops(vc, proj)
    res["image_gflop_per_image"] = img_flop / 1e9

    # Roofline. torch.mm at every linear-layer shape of each measured call (q/k/v/o [M x D]x[D x D],
    # MLP fc1 [M x D]x[D x I], fc2 [M x I]x[I x D]; M = tokens per call) at the same thread count.
    # "gemm-bound" time = the call's time if each of those matmuls ran at its sgemm rate and the rest
    # (patch conv, attention QK^T/AV, projection: ~4% of FLOPs) at the fc1 rate. On a shared VM the
    # load changes from minute to minute, so the shapes are timed right after the call they belong
    # to and the ratio uses best times on both sides (the least disturbed runs).
    sgemm, sgemm_bt = {}, {}  # "MxKxN" -> (median, best) GFLOP/s, B row-major / B = W^T

    def pct_of_gemm_bound(m, d, i, layers, total_flop, best_seconds):
        lin = [(m, d, d)] * 4 + [(m, d, i), (m, i, d)]
        key = lambda shp: "x".join(map(str, shp))
        for shp in lin:
            if key(shp) not in sgemm:
                sgemm_bt[key(shp)] = sgemm_gflops(*shp, min(args.min_seconds, 1.0), transposed_b=True)
                sgemm[key(shp)] = sgemm_gflops(*shp, min(args.min_seconds, 1.0), transposed_b=False)
        best_rate = lambda shp: sgemm_bt[key(shp)][1] * 1e9
        lin_flop = layers * sum(2 * a * b * c for a, b, c in lin)
        bound = layers * sum(2 * a * b * c / best_rate((a, b, c)) for a, b, c in lin) \
            + (total_flop - lin_flop) / best_rate((m, d, i))
        return 100 * bound / best_seconds

    # 1. Image tower. Random pixels: the cost does not depend on values.
    n_img = (vc.image_size // vc.patch_size) ** 2 + 1
    for b in IMAGE_BATCHES:
        pixels = torch.randn(b, 3, vc.image_size, vc.image_size, generator=torch.Generator().manual_seed(b))
        with torch.inference_mode():
            med, best = bench(lambda: model.get_image_features(pixel_values=pixels), args.min_seconds)
        res[f"image_b{b}_per_s"] = b / med
        res[f"image_b{b}_best_per_s"] = b / best
        res[f"image_b{b}_gflops"] = b * img_flop / med / 1e9
        res[f"image_b{b}_pct_of_gemm_bound"] = pct_of_gemm_bound(
            b * n_img, vc.hidden_size, vc.intermediate_size, vc.num_hidden_layers, b * img_flop, best)

    # 2. Text tower over 1000 prompts, tokenized beforehand so only the model is timed.
    res["text_prompts"] = NUM_PROMPTS
    res["text_padded77_per_s"] = res["text_longest_per_s"] = None  # stay null when text is skipped
    res["text_gflop_per_prompt_77"] = text_flops(tc, proj, tc.max_position_embeddings) / 1e9
    vocab, merges = (os.path.join(TOKENIZER_DIR, f) for f in ("vocab.json", "merges.txt"))
    if args.skip_text:
        print("text: skipped (--skip-text)")
    elif not (os.path.exists(vocab) and os.path.exists(merges)):
        print(f"text: skipped, CLIP tokenizer files not found in {TOKENIZER_DIR}")
    else:
        from transformers import CLIPTokenizer
        tok = CLIPTokenizer(vocab, merges)
        prompts = [f"a photo of a {name}." for name in class_names(NUM_PROMPTS)]
        chunks = [prompts[i:i + args.text_batch] for i in range(0, NUM_PROMPTS, args.text_batch)]
        for label, padding in (("padded77", "max_length"), ("longest", "longest")):
            batches = [tok(c, padding=padding, max_length=tc.max_position_embeddings, truncation=True,
                           return_tensors="pt") for c in chunks]
            lengths = [bt["input_ids"].shape[1] for bt in batches]

            def encode_all():
                for bt in batches:
                    model.get_text_features(input_ids=bt["input_ids"], attention_mask=bt["attention_mask"])

            with torch.inference_mode():
                # One full pass over 1000 prompts is long; a warm-up of one batch per distinct length suffices.
                warm = {bt["input_ids"].shape[1]: bt for bt in batches}.values()
                for bt in warm:
                    model.get_text_features(input_ids=bt["input_ids"], attention_mask=bt["attention_mask"])
                med, best = bench(encode_all, args.min_seconds, warmup=0)
            flop = sum(len(c) * text_flops(tc, proj, L) for c, L in zip(chunks, lengths))
            res[f"text_{label}_per_s"] = NUM_PROMPTS / med
            res[f"text_{label}_best_per_s"] = NUM_PROMPTS / best
            res[f"text_{label}_gflops"] = flop / med / 1e9
            res[f"text_{label}_mean_len"] = sum(len(c) * L for c, L in zip(chunks, lengths)) / NUM_PROMPTS
            # "longest" batches each have their own M; timing all those shapes is not worth the minutes.
            if label == "padded77" and len(set(len(c) for c in chunks)) == 1:
                res["text_padded77_pct_of_gemm_bound"] = pct_of_gemm_bound(
                    len(chunks[0]) * lengths[0], tc.hidden_size, tc.intermediate_size, tc.num_hidden_layers,
                    flop / len(chunks), best / len(chunks))
    res["sgemm_gflops"] = {k: v[0] for k, v in sgemm.items()}
    res["sgemm_bt_gflops"] = {k: v[0] for k, v in sgemm_bt.items()}

    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    res["script_seconds"] = time.perf_counter() - T_START

    # Human-readable table.
    print(f"torch {res['torch']} transformers {res['transformers']} shape {args.shape} threads {args.threads}"
          f" attn {res['attn_implementation']}")
    print(f"{'measurement':<28}{'per s (median)':>16}{'best':>10}{'GFLOP/s':>10}{'% of gemm-bound':>17}")
    rows = [(f"image b{b}", f"image_b{b}", res[f"image_b{b}_gflops"]) for b in IMAGE_BATCHES]
    for label in ("padded77", "longest"):
        if res[f"text_{label}_per_s"] is not None:
            name = f"text {label} (len {res[f'text_{label}_mean_len']:.0f})"
            rows.append((name, f"text_{label}", res[f"text_{label}_gflops"]))
    for name, key, gf in rows:
        pct = res.get(key + "_pct_of_gemm_bound")
        print(f"{name:<28}{res[key + '_per_s']:>16.2f}{res[key + '_best_per_s']:>10.2f}{gf:>10.1f}"
              + (f"{pct:>16.0f}%" if pct is not None else f"{'-':>17}"))
    print(f"image GFLOP/image {res['image_gflop_per_image']:.3f}; text GFLOP/prompt at 77 "
          f"{res['text_gflop_per_prompt_77']:.3f}")
    print(f"{'sgemm m x k x n (torch.mm)':<28}{'A*B GFLOP/s':>16}{'A*W^T GFLOP/s':>16}")
    for key, gf in res["sgemm_gflops"].items():
        print(f"{key:<28}{gf:>16.1f}{res['sgemm_bt_gflops'][key]:>16.1f}")
    print(f"peak RSS {res['peak_rss_mib']:.0f} MiB; script {res['script_seconds']:.0f} s")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
