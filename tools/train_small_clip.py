#!/usr/bin/env python3
"""Train ttad's bundled default model: a small CLIP (transformers CLIPModel) on Fashion-MNIST (one command).

    python tools/train_small_clip.py            # from the repository root; writes deploy/models/fmnist-clip

Needs: `pip install torch==2.13.0+cpu transformers pillow` (made with transformers 4.57.6; ftfy optional)
and the Debian package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/*.gz). CPU only: about
31 minutes on 2 cores of a 2.5 GHz Xeon (AVX-512), training plus the final evaluation. Options: --out, --data-dir, --seed (0),
--steps, --batch, --lr, --threads, --eval-only (re-evaluate an exported folder, no training).

What it does
- Data: the Fashion-MNIST TRAIN split only, 8 known classes; "bag" and "ankle boot" (labels 8, 9) are
  held out of training entirely (they are the unknown-class outliers of ttad's evaluation). A seeded,
  class-stratified 4% slice of the known train images is held out as a validation set (reported, never
  trained on; the final model is simply the last step). The test split is read only by the final
  evaluation of the exported folder.
- Images: 28x28 grey -> RGB (replicated) -> 224x224 bicubic exactly as the slow CLIPImageProcessor
  (PIL resample=BICUBIC) computes it (22-bit fixed-point
  coefficients; horizontal pass, 8-bit rounding and clipping, vertical pass, again), then /255 and CLIP's mean/std.
  The resampling is PIL's separable bicubic (a = -0.5, edge taps renormalised) written as two small
  matrices per image, so a random resized crop + flip of the 28x28 image is resampled straight to 224
  with the same kernel, and the un-augmented path equals PIL's resize bit for bit (checked at start-up).
  Augmented training batches take a float32 path (same kernel, plain rounding instead of PIL's 22-bit
  fixed point: at most one grey level apart), five times cheaper than the exact float64 one.
- Augmentation (source-model ordinary only): random resized crop (area 0.7-1, aspect 3/4-4/3) with
  p = 0.5, horizontal flip p = 0.5, brightness and contrast factors in [0.7, 1.3] (torchvision's
  definitions: multiply; blend with the image mean) with p = 0.5. None of the evaluation corruptions
  (noise, blur, pixelation, JPEG, fog, ...) is used.
- Captions: each batch draws one of TEMPLATES per class (uniformly at random), filled with the class
  name, as the caption of that class's images in the batch.
- Loss: symmetric multi-positive InfoNCE: every same-class pair in the batch is a positive, the targets
  are uniform over the positives (image->text and text->image, averaged). Only the distinct captions of
  a batch go through the text tower. The patch embedding is computed on the single grey plane
  (exact, since the three channels are the same grey normalised differently: grey_patch_forward).
- Optimiser: AdamW (beta2 0.98, weight decay 0.05 on matrices only, not on embeddings), linear warm-up
  then cosine decay, gradient clipping at 1.0; the logit scale is learnt (clamped to 100). Only the token
  embedding rows that the captions use are trained (the others would get zero gradient and so stay at
  their initial values anyway); they are kept in a small table during training and written back.
- Export: float16, `save_pretrained(safe_serialization=True)` -> config.json + model.safetensors, plus the
  full CLIP BPE (vocab.json, merges.txt copied unchanged from Tests/TTADModelTests/Fixtures/
  clip-tokenizer), preprocessor_config.json (CLIPImageProcessor: shortest_edge 224, crop 224, bicubic,
  CLIP mean/std), tokenizer_config.json (for Hugging Face's CLIPTokenizer/CLIPProcessor), eval.json
  and MODEL_CARD.md.
- Text config: bos 49406 and eos 49407 (the real <|startoftext|> / <|endoftext|>), so Hugging Face
  and ttad pool the text tower at the first end-of-text token (with eos_token_id 2 HF would pool at
  argmax(input_ids)); pad_token_id 49407 (CLIPTokenizer pads with <|endoftext|>; nothing reads it).
- Final evaluation: the exported folder loaded back with CLIPModel.from_pretrained in float32, the
  TEST split through the folder's own CLIPImageProcessor (PIL), prompts "a photo of a {class}."
  through CLIPTokenizer: zero-shot accuracy on the 8 known classes (overall and per class), and the
  outlier AUROC of max-softmax and max-cosine for bag + ankle boot (2000) vs known (8000).
torchvision is hidden from transformers (sys.modules), so the PIL image processor is used and a
torchvision wheel that does not match torch cannot break the import.
"""

import argparse
import gzip
import json
import math
import os
import shutil
import struct
import sys
import time

sys.modules.setdefault("torchvision", None)

import numpy as np
import torch
import torch.nn.functional as F

ALL_NAMES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
             "bag", "ankle boot"]                    # Fashion-MNIST labels 0..9, as used in prompts
KNOWN = list(range(8))                               # labels 0..7 are the known classes
HOLDOUT = [8, 9]                                     # bag, ankle boot: never trained on
CLASS_NAMES = [ALL_NAMES[i] for i in KNOWN]
EVAL_TEMPLATE = "a photo of a {}."
TEMPLATES = [
    "a photo of a {}.",
    "a picture of a {}.",
    "an image of a {}.",
    "a photo of the {}.",
    "a {} on a plain background.",
    "a black and white photo of a {}.",
    "a grayscale photo of a {}.",
    "a low resolution photo of a {}.",
    "a close-up photo of a {}.",
    "a centered photo of a {}.",
    "a product photo of a {}.",
    "a cropped photo of a {}.",
    "a photo of my {}.",
    "a small photo of a {}.",
    "a {}.",
    "{}",
]
BOS_ID, EOS_ID, VOCAB_SIZE = 49406, 49407, 49408
SIZE, SRC = 224, 28
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
VAL_FRACTION = 0.04

VISION = dict(hidden_size=96, num_hidden_layers=4, num_attention_heads=2, intermediate_size=384,
              image_size=SIZE, patch_size=32, num_channels=3, hidden_act="quick_gelu",
              layer_norm_eps=1e-5, attention_dropout=0.0, dropout=0.0)
TEXT = dict(vocab_size=VOCAB_SIZE, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
            intermediate_size=512, max_position_embeddings=77, hidden_act="quick_gelu",
            layer_norm_eps=1e-5, attention_dropout=0.0, dropout=0.0,
            bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=EOS_ID)
PROJECTION_DIM = 128

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_DIR = os.path.join(REPO, "Tests", "TTADModelTests", "Fixtures", "clip-tokenizer")


# ----------------------------------------------------------------------------------------------
# Data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    assert x.shape[1:] == (SRC, SRC) and len(x) == len(y)
    return x, y


def train_val_split(y, seed):
    """Indices of the known-class train images: (train, val), class-stratified, seeded."""
    rng = np.random.default_rng(seed + 1)
    tr, va = [], []
    for c in KNOWN:
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_val = int(round(VAL_FRACTION * len(idx)))
        va.append(idx[:n_val])
        tr.append(idx[n_val:])
    return np.sort(np.concatenate(tr)), np.sort(np.concatenate(va))


# ----------------------------------------------------------------------------------------------
# PIL's bicubic resampling as matrices (Resample.c: support 2, a = -0.5, taps outside the image dropped
# and the remaining weights renormalised; upsampling only, so the filter is not stretched)

def bicubic_kernel(x, a=-0.5):
    x = x.abs()
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return torch.where(x < 1, near, torch.where(x < 2, far, torch.zeros_like(x)))


def resample_matrices(lo, hi, out_size=SIZE, in_size=SRC):
    """[B, out, in] weights resampling the source interval [lo, hi) (floats, per image) to out_size."""
    scale = (hi - lo) / out_size                                            # [B]
    centers = lo[:, None] + (torch.arange(out_size, dtype=lo.dtype) + 0.5) * scale[:, None]
    taps = torch.arange(in_size, dtype=lo.dtype)
    w = bicubic_kernel(taps[None, None, :] + 0.5 - centers[:, :, None])     # [B, out, in]
    return w / w.sum(-1, keepdim=True)


def to_pixel_values(grey):
    """[B, 224, 224] float grey levels (already rounded to 0..255) -> [B, 3, 224, 224] CLIP input."""
    v = grey / 255.0
    mean = torch.tensor(MEAN, dtype=torch.float32)[None, :, None, None]
    std = torch.tensor(STD, dtype=torch.float32)[None, :, None, None]
    return (v[:, None].expand(-1, 3, -1, -1) - mean) / std


def upsample(images, boxes, flips):
    """images uint8 [B, 28, 28]; boxes float [B, 4] (x0, y0, x1, y1) in source pixels; flips bool [B]."""
    x = (images if torch.is_tensor(images) else torch.from_numpy(np.array(images))).to(torch.float64)
    wx = resample_matrices(boxes[:, 0], boxes[:, 2])
    wy = resample_matrices(boxes[:, 1], boxes[:, 3])
    wx = torch.where(flips[:, None, None], wx.flip(1), wx)
    # PIL (8-bit path): coefficients in 22-bit fixed point, horizontal pass into an 8-bit image, then
    # the vertical pass; each pass adds 2^21, shifts right by 22 and clips to 0..255. Exact in float64.
    wx, wy = fixed_point(wx), fixed_point(wy)
    rows = pass_8bit(torch.einsum("bij,bpj->bip", x, wx))
    return pass_8bit(torch.einsum("boi,bip->bop", wy, rows)).float()


def upsample_fast(x, boxes, flips):
    """upsample() for training batches: float32 [B, 28, 28] grey levels in, [B, 224, 224] out, each pass
    rounded and clipped to 0..255 like PIL's but without its fixed-point coefficients."""
    boxes = boxes.float()
    wx = resample_matrices(boxes[:, 0], boxes[:, 2])
    wy = resample_matrices(boxes[:, 1], boxes[:, 3])
    wx = torch.where(flips[:, None, None], wx.flip(1), wx)
    rows = torch.bmm(x, wx.transpose(1, 2)).round_().clamp_(0, 255)
    return torch.bmm(wy, rows).round_().clamp_(0, 255)


PRECISION_BITS = 22


def fixed_point(w):
    return torch.sign(w) * torch.floor(w.abs() * 2.0 ** PRECISION_BITS + 0.5)


def pass_8bit(acc):
    return torch.floor((acc + 2.0 ** (PRECISION_BITS - 1)) / 2.0 ** PRECISION_BITS).clamp(0, 255)


def full_boxes(n):
    return torch.tensor([[0.0, 0.0, SRC, SRC]], dtype=torch.float64).expand(n, 4)


def to_grey_input(grey):
    """[B, 224, 224] grey levels -> [B, 1, 224, 224] in 0..1, the input of the grey patch embedding."""
    return (grey / 255.0)[:, None]


def grey_patch_forward(conv, v):
    """The patch embedding of a grey image replicated to RGB and normalised with CLIP's mean/std,
    computed on the single grey plane: sum_c W_c * (v - mean_c) / std_c
    = conv(v, sum_c W_c / std_c) - sum_c,i,j W_c,i,j * mean_c / std_c. Exact (up to float rounding),
    a third of the patch-embedding work; gradients reach the original 3-channel weight."""
    mean = torch.tensor(MEAN, dtype=conv.weight.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=conv.weight.dtype).view(1, 3, 1, 1)
    w_eff = (conv.weight / std).sum(1, keepdim=True)
    offset = (conv.weight * (mean / std)).sum((1, 2, 3))
    return F.conv2d(v, w_eff, stride=conv.stride) - offset.view(1, -1, 1, 1)


def use_grey_patches(model, on):
    conv = model.vision_model.embeddings.patch_embedding
    if on:
        conv.forward = lambda v: grey_patch_forward(conv, v)
    elif "forward" in conv.__dict__:
        del conv.forward


def augment(images, gen):
    """Random resized crop + flip + brightness/contrast jitter; returns [B, 224, 224] grey levels."""
    b = len(images)
    u = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float64)
    # random resized crop of the 28x28 image (p = 0.5), area 0.7-1, log-uniform aspect 3/4-4/3
    area = 0.7 + 0.3 * u(b)
    aspect = torch.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * u(b))
    w = (SRC * torch.sqrt(area * aspect)).clamp(max=SRC)
    h = (SRC * torch.sqrt(area / aspect)).clamp(max=SRC)
    x0 = (SRC - w) * u(b)
    y0 = (SRC - h) * u(b)
    crop = u(b) < 0.5
    boxes = torch.stack([x0, y0, x0 + w, y0 + h], 1)
    boxes = torch.where(crop[:, None], boxes, full_boxes(b))
    flips = u(b) < 0.5
    # brightness and contrast (p = 0.5 each pair), on the 8-bit source image
    x = torch.as_tensor(np.array(images), dtype=torch.float32)
    jitter = u(b) < 0.5
    bright = torch.where(jitter, 0.7 + 0.6 * u(b), torch.ones(b, dtype=torch.float64)).float()
    contrast = torch.where(jitter, 0.7 + 0.6 * u(b), torch.ones(b, dtype=torch.float64)).float()
    x = (x * bright[:, None, None]).clamp(0, 255)
    m = x.mean((1, 2), keepdim=True)
    x = ((x - m) * contrast[:, None, None] + m).clamp(0, 255).round()
    return upsample_fast(x, boxes, flips)


def clean_grey(images):
    return upsample(images, full_boxes(len(images)), torch.zeros(len(images), dtype=torch.bool))


def clean_pixels(images):
    return to_pixel_values(clean_grey(images))


def check_against_pil(images):
    """The un-augmented path must reproduce PIL's bicubic resize (what CLIPImageProcessor does)."""
    from PIL import Image
    ours = upsample(images, full_boxes(len(images)), torch.zeros(len(images), dtype=torch.bool))
    diff = 0.0
    for k, im in enumerate(images):
        ref = np.asarray(Image.fromarray(im, "L").convert("RGB").resize((SIZE, SIZE), Image.BICUBIC))
        assert (ref[..., 0] == ref[..., 1]).all() and (ref[..., 0] == ref[..., 2]).all()
        diff = max(diff, float(np.abs(ours[k].numpy() - ref[..., 0]).max()))
    assert diff == 0.0, f"bicubic path differs from PIL by {diff} grey levels"
    return diff


# ----------------------------------------------------------------------------------------------
# Text

def load_tokenizer(folder):
    from transformers import CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(folder)
    assert len(tok) == VOCAB_SIZE and tok.bos_token_id == BOS_ID and tok.eos_token_id == EOS_ID
    return tok


def encode(tok, texts):
    """[N, L] ids padded with <|endoftext|> to the longest text (pooling is at the first eos)."""
    enc = tok(texts, padding="longest", truncation=True, max_length=77)["input_ids"]
    ids = torch.tensor(enc, dtype=torch.long)
    assert (ids[:, 0] == BOS_ID).all() and (ids == EOS_ID).any(1).all()
    return ids


def caption_table(tok):
    """ids of every (class, template) caption: [8 * T, L]; row = class * T + template."""
    texts = [t.format(name) for name in CLASS_NAMES for t in TEMPLATES]
    return encode(tok, texts)


# ----------------------------------------------------------------------------------------------
# Model and training

LOGIT_SCALE_INIT = 1 / 0.07


def make_model(seed):
    from transformers import CLIPConfig, CLIPModel
    config = CLIPConfig(text_config=TEXT, vision_config=VISION, projection_dim=PROJECTION_DIM,
                        logit_scale_init_value=math.log(LOGIT_SCALE_INIT))
    torch.manual_seed(seed)
    model = CLIPModel(config)
    assert model.config.text_config.eos_token_id == EOS_ID and model.config.text_config.bos_token_id == BOS_ID
    return model


def multi_positive_loss(img, txt, labels, scale):
    logits = scale * img @ txt.t()                                  # [B, B]: image i vs caption j
    pos = (labels[:, None] == labels[None, :]).float()
    target = pos / pos.sum(1, keepdim=True)
    i2t = -(target * F.log_softmax(logits, 1)).sum(1).mean()
    t2i = -(target * F.log_softmax(logits.t(), 1)).sum(1).mean()   # pos is symmetric
    return 0.5 * (i2t + t2i)


@torch.no_grad()
def zero_shot(model, pixel_batches, prompt_ids):
    """(predictions, max softmax, max cosine) over all images of the iterable pixel_batches."""
    t = F.normalize(model.get_text_features(input_ids=prompt_ids), dim=-1)
    scale = model.logit_scale.exp()
    preds, msp, mcos = [], [], []
    for px in pixel_batches:
        i = F.normalize(model.get_image_features(pixel_values=px), dim=-1)
        cos = i @ t.t()
        p = (scale * cos).softmax(-1)
        preds.append(cos.argmax(-1))
        msp.append(p.max(-1).values)
        mcos.append(cos.max(-1).values)
    return torch.cat(preds).numpy(), torch.cat(msp).numpy(), torch.cat(mcos).numpy()


def batches(x, n, fn):
    for s in range(0, len(x), n):
        yield fn(x[s:s + n])


def compact_token_embedding(model, used_ids):
    """Train only the rows of the 49408-row token embedding that the captions use (the others get no
    gradient and no weight decay, so AdamW would leave them unchanged anyway), without a dense
    49408-row gradient and optimiser state every step. Returns a function that writes them back."""
    emb = model.text_model.embeddings.token_embedding
    emb.weight.requires_grad_(False)
    used = torch.as_tensor(sorted(set(used_ids)), dtype=torch.long)
    remap = torch.full((VOCAB_SIZE,), -1, dtype=torch.long)
    remap[used] = torch.arange(len(used))
    rows = torch.nn.Parameter(emb.weight.data[used].clone())
    emb.forward = lambda ids: F.embedding(remap[ids], rows)

    def write_back():
        del emb.forward
        with torch.no_grad():
            emb.weight[used] = rows
        emb.weight.requires_grad_(True)
    return rows, write_back


def train(args, tok, x, y, tr_idx, va_idx):
    model = make_model(args.seed)
    model.eval()
    with torch.no_grad():                                           # the grey shortcut is exact
        probe = x[va_idx[:4]]
        ref = model.get_image_features(pixel_values=clean_pixels(probe))
        use_grey_patches(model, True)
        got = model.get_image_features(pixel_values=to_grey_input(clean_grey(probe)))
        assert (ref - got).abs().max() <= 1e-4 * ref.abs().max(), (ref - got).abs().max()
    model.train()
    captions = caption_table(tok)
    n_t = len(TEMPLATES)
    eval_prompts = encode(tok, [EVAL_TEMPLATE.format(c) for c in CLASS_NAMES])
    token_rows, write_back = compact_token_embedding(model, captions.flatten().tolist() + eval_prompts.flatten().tolist())

    decay, no_decay = [], [token_rows]
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue                                                # the full token table
        matrix = p.dim() >= 2 and not name.endswith("position_embedding.weight")
        (decay if matrix else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6, fused=True)
    warm = max(1, int(0.05 * args.steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, args.steps - warm))))

    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    order = np.empty(0, dtype=np.int64)
    val_x = x[va_idx]
    val_y = y[va_idx]
    log = []
    t0, c0 = time.time(), time.process_time()
    check_points = {int(args.steps * f) for f in (0.25, 0.5, 0.75) if args.steps >= 100} | {args.steps}
    running = 0.0
    for step in range(1, args.steps + 1):
        if len(order) < args.batch:
            order = np.concatenate([order, rng.permutation(tr_idx)])
        idx, order = order[:args.batch], order[args.batch:]
        labels = torch.as_tensor(y[idx])
        px = to_grey_input(augment(x[idx], gen))
        tmpl = torch.randint(0, n_t, (len(KNOWN),), generator=gen)   # one template per class and batch
        rows = labels * n_t + tmpl[labels]
        uniq, inverse = torch.unique(rows, return_inverse=True)
        ids = captions[uniq]
        ids = ids[:, :int((ids != EOS_ID).sum(1).max()) + 1]        # trim padding past the longest
        txt = F.normalize(model.get_text_features(input_ids=ids), dim=-1)[inverse]
        img = F.normalize(model.get_image_features(pixel_values=px), dim=-1)
        loss = multi_positive_loss(img, txt, labels, model.logit_scale.exp())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(decay + no_decay, 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        running = loss.item() if step == 1 else 0.98 * running + 0.02 * loss.item()
        if step % args.log_every == 0 or step == args.steps:
            el = time.time() - t0
            print(f"step {step}/{args.steps}  loss {running:.4f}  scale {model.logit_scale.exp().item():.1f}  "
                  f"lr {sched.get_last_lr()[0]:.2e}  {el:.0f}s (cpu {time.process_time() - c0:.0f}s)  "
                  f"{step * args.batch / el:.0f} img/s", flush=True)
        if step in check_points:
            model.eval()
            pred, _, _ = zero_shot(model, batches(val_x, 256, lambda b: to_grey_input(clean_grey(b))), eval_prompts)
            model.train()
            acc = float((pred == val_y).mean())
            log.append(dict(step=step, epoch=step * args.batch / len(tr_idx), loss=running,
                            val_acc=acc, seconds=time.time() - t0))
            print(f"  val ({len(val_y)} held-out train images) zero-shot acc {acc:.4f}", flush=True)
    use_grey_patches(model, False)
    write_back()
    return model, log, time.time() - t0


# ----------------------------------------------------------------------------------------------
# Export and evaluation

def image_processor():
    from transformers import CLIPImageProcessor
    from transformers.image_utils import PILImageResampling
    proc = CLIPImageProcessor(size={"shortest_edge": SIZE}, crop_size={"height": SIZE, "width": SIZE},
                              resample=PILImageResampling.BICUBIC, do_resize=True, do_center_crop=True,
                              do_rescale=True, do_normalize=True, do_convert_rgb=True,
                              image_mean=list(MEAN), image_std=list(STD))
    assert type(proc).__name__ == "CLIPImageProcessor"
    return proc


def export(model, out):
    os.makedirs(out, exist_ok=True)
    half = make_model(0)
    half.load_state_dict(model.state_dict())
    half = half.half().eval()
    half.save_pretrained(out, safe_serialization=True)
    # save_pretrained leaves out values equal to transformers' defaults; spell the special ids out
    path = os.path.join(out, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["text_config"].update(bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=EOS_ID)
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    for f in ("vocab.json", "merges.txt"):
        shutil.copyfile(os.path.join(TOKENIZER_DIR, f), os.path.join(out, f))
    image_processor().save_pretrained(out)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "CLIPTokenizer", "model_max_length": 77,
                   "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}, f, indent=2)
        f.write("\n")


def safetensors_dtypes(path):
    with open(path, "rb") as f:
        n, = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return {v["dtype"] for k, v in header.items() if k != "__metadata__"}


def auroc(pos, neg):
    """P(score of a positive > score of a negative), ties count half."""
    s = np.concatenate([pos, neg])
    order = s.argsort(kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    # average ranks of ties
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / counts)[inv]
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def evaluate(out, data_dir, limit=0):
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPModel
    assert safetensors_dtypes(os.path.join(out, "model.safetensors")) == {"F16"}
    model = CLIPModel.from_pretrained(out, dtype=torch.float32).eval()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.config.text_config.eos_token_id == EOS_ID
    tok = load_tokenizer(out)
    proc = CLIPImageProcessor.from_pretrained(out)
    assert type(proc).__name__ == "CLIPImageProcessor"
    x, y = load_split(data_dir, "test")
    if limit:                                           # smoke tests only
        x, y = x[:limit], y[:limit]
    prompts = [EVAL_TEMPLATE.format(c) for c in CLASS_NAMES]
    ids = tok(prompts, padding=True)["input_ids"]
    prompt_ids = torch.tensor(ids)
    # pooling check: HF pools at the first eos, which is the end of each prompt
    first_eos = (prompt_ids == EOS_ID).int().argmax(1)
    assert all(int(first_eos[k]) == ids[k].index(EOS_ID) for k in range(len(ids)))

    def pixels(chunk):
        ims = [Image.fromarray(im, "L") for im in chunk]
        return proc(images=ims, return_tensors="pt")["pixel_values"]

    # the training path computes the same pixels
    sample = x[:16]
    d = (pixels(sample) - clean_pixels(sample)).abs().max().item()
    pred, msp, mcos = zero_shot(model, batches(x, 250, pixels), prompt_ids)
    known = np.isin(y, KNOWN)
    acc = float((pred[known] == y[known]).mean())
    per_class = {CLASS_NAMES[c]: float((pred[y == c] == c).mean()) for c in KNOWN}
    confusion = np.zeros((8, 8), dtype=int)
    for t, p in zip(y[known], pred[known]):
        confusion[t, p] += 1
    outl = ~known
    res = dict(
        clean_accuracy_known=acc, n_known=int(known.sum()), n_outliers=int(outl.sum()),
        per_class_accuracy=per_class, confusion=confusion.tolist(),
        outlier_auroc_max_softmax=auroc(msp[known], msp[outl]),
        outlier_auroc_max_cosine=auroc(mcos[known], mcos[outl]),
        outlier_predicted_as={CLASS_NAMES[c]: int((pred[outl] == c).sum()) for c in KNOWN},
        logit_scale=model.logit_scale.exp().item(),
        max_abs_pixel_diff_processor_vs_training_path=d,
        prompt_template=EVAL_TEMPLATE, class_names=CLASS_NAMES,
        model_size_bytes=os.path.getsize(os.path.join(out, "model.safetensors")),
        parameters=sum(p.numel() for p in model.parameters()),
    )
    return res


def write_card(out, args, res, log, train_seconds, total_seconds, pil_diff):
    import transformers
    cmd = "python tools/train_small_clip.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    per_class = "\n".join(f"| {c} | {100 * a:.1f} |" for c, a in res["per_class_accuracy"].items())
    val = "\n".join(f"| {e['step']} | {e['epoch']:.2f} | {e['loss']:.3f} | {100 * e['val_acc']:.1f} | {e['seconds'] / 60:.1f} |"
                    for e in log) or "| (not recorded: --eval-only) | | | | |"
    mb = res["model_size_bytes"] / 1e6
    text = f"""# fmnist-clip: ttad's bundled default model

A small CLIP (Hugging Face `CLIPModel`, ViT image tower at 224 px with 32 px patches like ViT-B/32)
trained from scratch by this project on Fashion-MNIST. It is a test-bed model for test-time
adaptation, not a general-purpose CLIP: it knows 8 clothing classes on plain black backgrounds.

## Files
`config.json`, `model.safetensors` (float16, {res['model_size_bytes']:,} bytes = {mb:.1f} MB,
{res['parameters']:,} parameters), `vocab.json` + `merges.txt` (the full OpenAI CLIP BPE, 49,408
tokens, converted from `bpe_simple_vocab_16e6.txt.gz` in the open-clip-torch wheel, MIT; copied
unchanged from `Tests/TTADModelTests/Fixtures/clip-tokenizer`), `preprocessor_config.json`
(`CLIPImageProcessor`: resize shortest edge 224 bicubic, centre crop 224, rescale 1/255, CLIP
mean/std), `tokenizer_config.json` (for Hugging Face's `CLIPTokenizer`), `eval.json` (the numbers
below, with the confusion matrix).

## Reproduce
```
{cmd}
```
(from the repository root; Python with `torch==2.13.0+cpu`, `transformers` ({transformers.__version__}
here), `pillow`; Debian package `dataset-fashion-mnist`). Seed {args.seed} (torch and numpy), CPU,
{torch.get_num_threads()} threads. Training took {train_seconds / 60:.1f} min, the whole command
{total_seconds / 60:.1f} min on 2 cores of an Intel Xeon (AVX-512). The method is described in the
script's header.

## Data
- Fashion-MNIST (Zalando, MIT; Debian `dataset-fashion-mnist`), **train split only**: 8 known
  classes, {len(args.tr_idx):,} images for training and {len(args.va_idx):,} (4 %, stratified, seeded)
  held out for validation. The test split was used only for the final evaluation below and never
  for training or model selection (the model is the last training step).
- Holdout classes, never seen in training: **"bag"** and **"ankle boot"** (labels 8 and 9), the
  unknown-class outliers of ttad's evaluation.
- Images: 28x28 grey, replicated to RGB, upsampled to 224x224 bicubic exactly as
  `CLIPImageProcessor` (PIL) does (bit-identical 8-bit images; checked), CLIP mean/std.
- Augmentation: random resized crop (area 0.7-1, p 0.5), horizontal flip, brightness and contrast
  factors 0.7-1.3 (p 0.5). No noise, blur, pixelation, JPEG, fog or other evaluation corruption.
- Captions: {len(TEMPLATES)} templates per class name: {", ".join('"' + t + '"' for t in TEMPLATES)}.

## Class names (exactly as used in prompts; index = label)
{chr(10).join(f"{i}. `{n}`" for i, n in enumerate(CLASS_NAMES))}

Prompt for zero-shot classification: `{EVAL_TEMPLATE}` (e.g. "a photo of a T-shirt/top.").

## Architecture
- Vision: ViT, image 224, patch 32 (7x7 patches + class token), hidden {VISION['hidden_size']},
  {VISION['num_hidden_layers']} layers, {VISION['num_attention_heads']} heads, MLP {VISION['intermediate_size']}, `{VISION['hidden_act']}`.
- Text: causal transformer, vocabulary 49,408 (CLIP BPE), context 77, hidden {TEXT['hidden_size']},
  {TEXT['num_hidden_layers']} layers, {TEXT['num_attention_heads']} heads, MLP {TEXT['intermediate_size']}, `{TEXT['hidden_act']}`;
  `bos_token_id` 49406, `eos_token_id` 49407 (the real `<|startoftext|>`/`<|endoftext|>`, so Hugging
  Face and ttad both pool at the first end-of-text token), `pad_token_id` 49407.
- Projection {PROJECTION_DIM}; learnt logit scale {res['logit_scale']:.1f}.
- Training: symmetric multi-positive InfoNCE (all same-class pairs in a batch are positives),
  batch {args.batch}, {args.steps} steps ({args.steps * args.batch / len(args.tr_idx):.2f} epochs), AdamW lr {args.lr:g}
  (5 % warm-up, cosine), weight decay {args.wd:g}, float32; exported in float16.

## Validation during training (held-out train images, "{EVAL_TEMPLATE}", float32 weights)
| step | epoch | loss (EMA) | val acc % | minutes |
|---|---|---|---|---|
{val}

## Clean zero-shot accuracy (Fashion-MNIST test split, 8 known classes)
Exported float16 weights loaded with `CLIPModel.from_pretrained` (float32 compute), images through
the folder's `CLIPImageProcessor`, prompts through `CLIPTokenizer`, text pooled at the first eos.

**{100 * res['clean_accuracy_known']:.2f} %** on {res['n_known']:,} images.

| class | accuracy % |
|---|---|
{per_class}

Outliers (information): AUROC known ({res['n_known']:,}) vs bag + ankle boot ({res['n_outliers']:,}):
max-softmax {res['outlier_auroc_max_softmax']:.3f}, max-cosine {res['outlier_auroc_max_cosine']:.3f}.
The outliers are predicted as: {", ".join(f"{k} {v}" for k, v in res['outlier_predicted_as'].items())}.

## Status against ttad's target
ttad's evaluation asks for at least 85 % clean zero-shot accuracy from a run of at most 30 minutes
on 2 cores. This model: {100 * res['clean_accuracy_known']:.2f} % in {total_seconds / 60:.1f} minutes
{'(target met)' if res['clean_accuracy_known'] >= 0.85 and total_seconds <= 1800 else '(target not met)'}.

## Limitations
- Knows only 8 Fashion-MNIST classes as centred grey items on a black background; any other
  image or class name gives meaningless scores. Tiny text tower trained on {len(TEMPLATES) * 8} distinct
  captions: it maps these class names and templates, not language.
- Trained from scratch on 28 px images upsampled to 224 px, so it has never seen real detail at
  224 px, textured or grey backgrounds, or colour.
- "shirt" is the weakest class (confused with T-shirt/top, pullover and coat), as for every
  Fashion-MNIST classifier.
- Near-OOD detection of the holdout classes is weak (AUROC above); treat the scores as a baseline.
- Self-trained weights, one seed; numbers move by about a point between seeds or thread counts.
"""
    with open(os.path.join(out, "MODEL_CARD.md"), "w") as f:
        f.write(text)


def main():
    global LOGIT_SCALE_INIT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "deploy", "models", "fmnist-clip"))
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--logit-scale-init", type=float, default=LOGIT_SCALE_INIT)
    ap.add_argument("--vision-layers", type=int, default=VISION["num_hidden_layers"])
    ap.add_argument("--vision-width", type=int, default=VISION["hidden_size"],
                    help="width of the image tower (its MLP is 4x this)")
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--test-limit", type=int, default=0, help=argparse.SUPPRESS)  # smoke tests
    ap.add_argument("--pilot", action="store_true", help="train and report validation only: no export, no test split")
    ap.add_argument("--eval-only", action="store_true", help="evaluate the folder at --out, no training")
    args = ap.parse_args()
    t_start = time.time()
    VISION["num_hidden_layers"] = args.vision_layers
    VISION["hidden_size"] = args.vision_width
    VISION["intermediate_size"] = 4 * args.vision_width
    LOGIT_SCALE_INIT = args.logit_scale_init
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x, y = load_split(args.data_dir, "train")
    args.tr_idx, args.va_idx = train_val_split(y, args.seed)
    assert not np.isin(y[args.tr_idx], HOLDOUT).any() and not np.isin(y[args.va_idx], HOLDOUT).any()
    pil_diff = check_against_pil(x[:64])
    print(f"train {len(args.tr_idx)}  val {len(args.va_idx)}  (known classes; bag and ankle boot dropped); "
          f"bicubic path vs PIL max diff {pil_diff:.0f}", flush=True)

    log, train_seconds = [], 0.0
    if not args.eval_only:
        tok = load_tokenizer(TOKENIZER_DIR)
        model, log, train_seconds = train(args, tok, x, y, args.tr_idx, args.va_idx)
        if args.pilot:
            print(json.dumps(dict(train_seconds=train_seconds, validation=log)))
            return
        export(model, args.out)
        del model
    res = evaluate(args.out, args.data_dir, args.test_limit)
    total = time.time() - t_start
    res.update(train_seconds=train_seconds, total_seconds=total, seed=args.seed, steps=args.steps,
               batch=args.batch, lr=args.lr, validation=log)
    if not args.eval_only:
        with open(os.path.join(args.out, "eval.json"), "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
        write_card(args.out, args, res, log, train_seconds, total, pil_diff)
    print(json.dumps({k: v for k, v in res.items() if k not in ("confusion", "validation")}, indent=2))
    print(f"clean zero-shot accuracy (8 known test classes): {100 * res['clean_accuracy_known']:.2f} %  "
          f"size {res['model_size_bytes'] / 1e6:.2f} MB  total {total / 60:.1f} min")


if __name__ == "__main__":
    main()
