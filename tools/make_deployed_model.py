#!/usr/bin/env python3
"""Makes a model folder at the size users deploy, with seeded random weights, in the Hugging Face
layout ttad reads: CLIP ViT-B/32 (`--shape b32`, transformers' CLIPConfig() defaults, the shape of
openai/clip-vit-base-patch32) or ViT-B/16 (`--shape b16`, the same with 16-pixel patches).

No pretrained CLIP can be downloaded here, so accuracy means nothing on these folders; speed,
memory and the live daemon's behaviour at the deployed size do not depend on the weights.

    python3 tools/make_deployed_model.py --shape b32 --out /tmp/vit-b32     # ~600 MB, ~20 s
    python3 tools/make_deployed_model.py --shape b16 --seed 2 --out /tmp/vit-b16

Needs torch and transformers (tools/bench_clip_torch.py says how to install them). The tokenizer
files are the real CLIP BPE (Tests/TTADModelTests/Fixtures/clip-tokenizer), the image processor
CLIP's (224 px). The same seed gives the same weights.
"""

import argparse
import json
import os
import shutil
import sys

sys.modules.setdefault("torchvision", None)  # see tools/bench_clip_torch.py

import torch
from transformers import CLIPConfig, CLIPModel

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_DIR = os.path.join(REPO_ROOT, "Tests", "TTADModelTests", "Fixtures", "clip-tokenizer")
BUNDLED = os.path.join(REPO_ROOT, "deploy", "models", "fmnist-clip")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=["b32", "b16"], default="b32")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    config = CLIPConfig()
    if args.shape == "b16":
        config.vision_config.patch_size = 16
    torch.manual_seed(args.seed)
    model = CLIPModel(config).eval()
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(TOKENIZER_DIR, name), os.path.join(args.out, name))
    # CLIP's tokenizer settings and 224-px image processor, as the bundled folder has them.
    for name in ("tokenizer_config.json", "preprocessor_config.json"):
        shutil.copy(os.path.join(BUNDLED, name), os.path.join(args.out, name))
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as f:
        f.write(f"# Random CLIP ViT-{args.shape[0].upper()}/{args.shape[1:]} (seed {args.seed})\n\n"
                "Made by tools/make_deployed_model.py for speed and memory measurements at the deployed size. "
                "The weights are random: predictions carry no meaning.\n")
    n = sum(p.numel() for p in model.parameters())
    print(json.dumps({"out": args.out, "shape": args.shape, "seed": args.seed, "parameters": n,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
