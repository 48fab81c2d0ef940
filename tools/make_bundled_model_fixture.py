#!/usr/bin/env python3
"""Reference outputs of the bundled model (deploy/models/fmnist-clip) computed by transformers, for
ttad's test that the folder gives the same logits in ttad and in transformers.

    python tools/make_bundled_model_fixture.py     # writes Tests/TTADModelTests/Fixtures/fmnist-clip-reference/

Needs torch (2.13.0+cpu), transformers (4.57.6 here), pillow, numpy, safetensors and the Debian package
dataset-fashion-mnist. Takes 16 images of the Fashion-MNIST test split (the first of each of the ten
labels, outliers included, then the next six images), runs them through the folder's own
CLIPImageProcessor (PIL, 28x28 grey -> RGB -> 224 bicubic -> CLIP mean/std) and the prompts
"a photo of a {class}." through CLIPTokenizer, and saves (float32) the 28x28 grey images, the image and
text embeddings and logits_per_image of CLIPModel loaded from the folder in float32.
"""
import gzip
import json
import os
import struct
import sys

sys.modules.setdefault("torchvision", None)     # the PIL image processor; a mismatched torchvision cannot break it

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(REPO, "deploy", "models", "fmnist-clip")
OUT = os.path.join(REPO, "Tests", "TTADModelTests", "Fixtures", "fmnist-clip-reference")
DATA = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker"]
TEMPLATE = "a photo of a {}."


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = struct.unpack(">I", data[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    x = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    first = [int(np.flatnonzero(y == c)[0]) for c in range(10)]
    rest = [i for i in range(len(y)) if i not in first][:6]
    idx = first + rest
    images = x[idx]

    model = CLIPModel.from_pretrained(FOLDER, dtype=torch.float32).eval()
    tok = CLIPTokenizer.from_pretrained(FOLDER)
    proc = CLIPImageProcessor.from_pretrained(FOLDER)
    prompts = [TEMPLATE.format(c) for c in CLASS_NAMES]
    enc = tok(prompts, padding=True, return_tensors="pt")
    pixels = proc(images=[Image.fromarray(im, "L") for im in images], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], pixel_values=pixels)
    os.makedirs(OUT, exist_ok=True)
    save_file({
        "images": torch.from_numpy(images.astype(np.float32)).contiguous(),
        "image_embeds": out.image_embeds.contiguous(),
        "text_embeds": out.text_embeds.contiguous(),
        "logits_per_image": out.logits_per_image.contiguous(),
    }, os.path.join(OUT, "reference.safetensors"))
    ids = [[int(t) for t, m in zip(row, mask) if m] for row, mask in zip(enc["input_ids"], enc["attention_mask"])]
    import transformers
    meta = dict(test_indices=idx, labels=[int(v) for v in y[idx]], class_names=CLASS_NAMES, template=TEMPLATE,
                prompt_ids=ids, logit_scale=float(model.logit_scale.detach().exp()),
                made_with=dict(torch=torch.__version__, transformers=transformers.__version__))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(idx)} images, logits {tuple(out.logits_per_image.shape)}")


if __name__ == "__main__":
    main()
