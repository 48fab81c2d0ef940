#!/usr/bin/env python3
"""Make the tiny CLIP model fixtures for Tests/TTADModelTests/Fixtures/clip-models (one command).

    /tmp/tokvenv/bin/python tools/make_clip_fixtures.py            # from the repository root

(the venv of tools/make_tokenizer_fixtures.py: torch 2.13 CPU, transformers 4.x, ftfy, pillow.)
Options: --out-dir (default Tests/TTADModelTests/Fixtures/clip-models), --seed (default 0). Output is
byte-identical between runs for a given seed and the package versions recorded in reference.json
(fixed seeds, one CPU thread, eager attention).

What it writes: four folders, each a Hugging Face CLIP model folder with random weights
(config.json + model.safetensors from CLIPModel.save_pretrained(safe_serialization=True), vocab.json,
merges.txt, preprocessor_config.json from the slow, PIL-based CLIPImageProcessor) plus the reference
outputs of transformers' own CLIPModel (reference.safetensors, reference.json):

    tiny       vision 32 wide, 2 layers, 2 heads, mlp 64, 32x32 images, 8x8 patches; text 32 wide,
               2 layers, 2 heads, mlp 64, context 77; projection 16; "gelu" (erf) in both towers;
               text eos_token_id 2513 (HF pools at the first eos).
    quick      vision 48 wide, 3 layers, 4 heads, mlp 96, 48x48 images, 12x12 patches; text 40 wide,
               2 layers, 5 heads, mlp 160, context 40 (long texts are truncated); projection 24;
               "quick_gelu" in both; text eos_token_id 2, the legacy value of OpenAI's checkpoints
               (HF pools at argmax(input_ids), the first eos since eos is the largest id).
    tiny-f16   the tiny weights rounded to float16, model.safetensors all F16; its references are
    tiny-bf16  computed in float32 from the rounded weights (an exact F16/BF16 -> F32 loader matches
               them to 1e-5); reference.json also holds the max |difference| to the F32 tiny outputs.

Vocabulary: a truncated CLIP BPE so the embedding tables stay small. vocab.json = the 256 byte
symbols, the same with "</w>", one token per merge for the first 2000 merges of the CLIP BPE file,
then <|startoftext|> (2512) and <|endoftext|> (2513): 2514 entries, i.e. the first 2512 entries of
Fixtures/clip-tokenizer/vocab.json plus the two special tokens. merges.txt = "#version: 0.2" + those
2000 merges. HF's slow CLIPTokenizer (with ftfy) tokenizes with it; every id is < 2514.

Weights: CLIPModel(config) under torch.manual_seed, then every parameter is re-drawn from a seeded
generator so that each one matters: LayerNorm weights 1 + 0.1 N, every bias 0.1 N (no LayerNorm is
the identity, no bias is zero), Linear/Conv weights N / sqrt(fan_in) (projections included, so the
features are O(1)), token embeddings 0.5 N, position embeddings 0.2 N, class embedding 0.5 N,
logit_scale = log(1 / 0.05) (exp = 20, not the 2.6592 default).

reference.safetensors (float32):
    pixel_values [3, 3, S, S]      images 0, 1 seeded N(0, 1); image 2 = Fixtures/images/photo_420.jpg
                                   through the folder's CLIPImageProcessor (PIL backend)
    image_features [3, P]          get_image_features (unnormalised)
    vision_last_hidden [1+N, Dv]   vision_model last_hidden_state of image 0 (before post_layernorm)
    text_features [T, P]           get_text_features(input_ids) of reference.json "texts", padded to
                                   the full context (padding="max_length", pad = <|endoftext|>,
                                   truncation=True), no attention_mask (as the plain HF call)
    text_last_hidden_0 [L0, Dt]    text last_hidden_state (after final_layer_norm) of text 0, positions
                                   0..eos inclusive
    logits_per_image [3, T]        CLIPModel forward (logit_scale.exp() * cosine similarities)
    logit_scale [1]                the raw parameter (before exp)
    ctx [4, Dt]                    text prompt context (seeded 0.5 N)
    prompted_text_features [C, P]  prompts "a photo of a {class}." with the token embeddings at
                                   positions 1..4 ("a photo of a", right after the start token)
                                   replaced by ctx; then position embeddings, encoder with HF's causal
                                   mask (no padding mask), final_layer_norm, pooling at eos by the
                                   config's rule, text_projection. Prompts padded to the full context.
    visual_prompts [3, Dv]         visual prompt tokens (seeded 0.5 N)
    prompted_image_features [3, P] vision embeddings (class token + patches, position embeddings
                                   added) with the 3 prompts inserted after the class token (no
                                   position embedding on them), pre_layrnorm, encoder, post_layernorm
                                   of token 0, visual_projection
    prompted_logits [3, C]         logit_scale.exp() * normalize(prompted_image) @ normalize(prompted_text).T

config.json is as save_pretrained writes it: fields equal to their defaults are left out (the text
pad_token_id 1, for one); in the F16/BF16 folders the top-level "dtype" names the weight type while
text_config/vision_config still say "float32" (the safetensors header is what counts).

reference.json: config, texts, text_ids (unpadded, up to and including eos), template, class_names,
prompt_ids, n_ctx, n_visual_prompts, image_files, token_cases (every string of
Fixtures/clip-tokenizer/tokens.json tokenized with this vocabulary, truncation to the context; only
in tiny and quick, empty in the F16/BF16 folders which share the tiny vocabulary), versions.

The script checks itself: the manual prompt paths with ctx = the token embeddings of "a photo of a"
and with no visual prompts reproduce get_text_features / get_image_features to 1e-6, every saved
folder loads back with from_pretrained, and its processor reproduces the saved pixel values.
torchvision is hidden from transformers (sys.modules) so the PIL image processor is used and a
torchvision wheel that does not match torch cannot break the import.
"""

import argparse
import hashlib
import json
import math
import os
import struct
import sys

sys.modules.setdefault("torchvision", None)  # see the docstring: force the PIL image processor

N_MERGES = 2000
BYTE_TOKENS = 512
BOS_ID = BYTE_TOKENS + N_MERGES          # 2512
EOS_ID = BOS_ID + 1                      # 2513
VOCAB_SIZE = EOS_ID + 1                  # 2514
LOGIT_SCALE = math.log(1 / 0.05)
IMAGE_FILE = "photo_420.jpg"
TEMPLATE = "a photo of a {}."
CTX_PREFIX = "a photo of a"
CLASS_NAMES = ["cat", "ankle boot", "T-shirt/top", "jack-o'-lantern", "golden retriever"]
N_VISUAL_PROMPTS = 3
TEXTS = [
    "a photo of a cat.",
    "",
    "A Photo of the ANKLE BOOT, please!",
    "it's a café &amp; a dog's toy 😀",
    "hello world",
    "the quick brown fox jumps over the lazy dog while the cat sleeps on a warm mat near the door, "
    "and the bird sings.",
    "Photograph of 3 zebras & 2 giraffes at sunset, near the mountain water; long-exposure, "
    "kaleidoscope colours! (unbelievably vivid)",
    "a photo of a cat. " * 20,
]

COMMON_TEXT = dict(vocab_size=VOCAB_SIZE, bos_token_id=BOS_ID, pad_token_id=1, layer_norm_eps=1e-5,
                   attention_dropout=0.0, dropout=0.0)
COMMON_VISION = dict(num_channels=3, layer_norm_eps=1e-5, attention_dropout=0.0, dropout=0.0)
MODELS = {
    "tiny": dict(
        vision=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    image_size=32, patch_size=8, hidden_act="gelu"),
        text=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                  max_position_embeddings=77, hidden_act="gelu", eos_token_id=EOS_ID),
        projection_dim=16),
    "quick": dict(
        vision=dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96,
                    image_size=48, patch_size=12, hidden_act="quick_gelu"),
        text=dict(hidden_size=40, num_hidden_layers=2, num_attention_heads=5, intermediate_size=160,
                  max_position_embeddings=40, hidden_act="quick_gelu", eos_token_id=2),
        projection_dim=24),
}
HALF_MODELS = {"tiny-f16": ("tiny", "float16"), "tiny-bf16": ("tiny", "bfloat16")}


# ----------------------------------------------------------------------------------------------
# Vocabulary

def write_vocab(tokenizer_dir, out_dir):
    """The truncated vocab.json / merges.txt, cut from the full CLIP files of clip-tokenizer."""
    with open(os.path.join(tokenizer_dir, "vocab.json"), encoding="utf-8") as f:
        full = json.load(f)
    by_id = sorted(full.items(), key=lambda kv: kv[1])
    assert [i for _, i in by_id] == list(range(len(by_id)))
    with open(os.path.join(tokenizer_dir, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("#version")
    merges = [tuple(line.split(" ")) for line in lines[1:N_MERGES + 1]]
    assert len(merges) == N_MERGES and all(len(m) == 2 for m in merges)
    tokens = [t for t, _ in by_id[:BYTE_TOKENS]]
    assert all(len(t) == 1 for t in tokens[:256]) and tokens[256:] == [t + "</w>" for t in tokens[:256]]
    for k, (a, b) in enumerate(merges):
        assert by_id[BYTE_TOKENS + k][0] == a + b, (k, a, b)
        tokens.append(a + b)
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == VOCAB_SIZE and vocab["<|startoftext|>"] == BOS_ID and vocab["<|endoftext|>"] == EOS_ID
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(vocab, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def load_tokenizer(folder):
    import ftfy
    from transformers import CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(folder)
    assert type(tok).__name__ == "CLIPTokenizer", type(tok)
    assert tok.fix_text is ftfy.fix_text, "ftfy must be installed: the fixtures are made with it"
    assert len(tok) == VOCAB_SIZE and tok.bos_token_id == BOS_ID and tok.eos_token_id == EOS_ID
    assert tok.pad_token_id == EOS_ID  # CLIPTokenizer pads with <|endoftext|>
    return tok


def encode(tok, text, context, padded):
    kwargs = dict(truncation=True, max_length=context)
    if padded:
        kwargs["padding"] = "max_length"
    ids = tok(text, **kwargs)["input_ids"]
    assert all(0 <= i < VOCAB_SIZE for i in ids), (text, ids)
    assert ids[0] == BOS_ID and EOS_ID in ids and len(ids) <= context
    return ids


def unpadded(ids):
    return ids[:ids.index(EOS_ID) + 1]


# ----------------------------------------------------------------------------------------------
# Models

def make_config(spec):
    from transformers import CLIPConfig
    config = CLIPConfig(text_config={**COMMON_TEXT, **spec["text"]},
                        vision_config={**COMMON_VISION, **spec["vision"]},
                        projection_dim=spec["projection_dim"], logit_scale_init_value=LOGIT_SCALE)
    assert config.text_config.eos_token_id == spec["text"]["eos_token_id"]
    assert config.text_config.bos_token_id == BOS_ID and config.text_config.pad_token_id == 1
    return config


def init_parameters(model, seed):
    """Re-draw every parameter (see the docstring), in named_parameters order from one generator."""
    import torch
    g = torch.Generator().manual_seed(seed)
    layer_norms = {f"{name}.{p}" for name, m in model.named_modules()
                   if isinstance(m, torch.nn.LayerNorm) for p in ("weight", "bias")}
    with torch.no_grad():
        for name, p in model.named_parameters():
            n = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name == "logit_scale":
                p.fill_(LOGIT_SCALE)
            elif name in layer_norms and name.endswith(".weight"):
                p.copy_(1 + 0.1 * n)
            elif name.endswith(".bias"):
                p.copy_(0.1 * n)
            elif name.endswith("embeddings.class_embedding"):
                p.copy_(0.5 * n)
            elif name.endswith("position_embedding.weight"):
                p.copy_(0.2 * n)
            elif name.endswith("token_embedding.weight"):
                p.copy_(0.5 * n)
            elif name.endswith("patch_embedding.weight") or (p.dim() == 2 and name.endswith("proj.weight")) \
                    or name.endswith(("fc1.weight", "fc2.weight", "projection.weight")):
                fan_in = p[0].numel()
                p.copy_(n / math.sqrt(fan_in))
            else:
                raise AssertionError(f"parameter without an init rule: {name} {tuple(p.shape)}")


def load_model(folder):
    import torch
    from transformers import CLIPModel
    model = CLIPModel.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    for p in model.parameters():
        assert p.dtype == torch.float32
    return model


def image_processor(size):
    from transformers import CLIPImageProcessor
    from transformers.image_utils import PILImageResampling
    proc = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size},
                              resample=PILImageResampling.BICUBIC, do_resize=True, do_center_crop=True,
                              do_rescale=True, do_normalize=True, do_convert_rgb=True)
    assert type(proc).__name__ == "CLIPImageProcessor"  # the slow PIL/numpy processor, not ...Fast
    return proc


def safetensors_dtypes(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}


# ----------------------------------------------------------------------------------------------
# Prompted forward passes, built from the model's own modules

def pool_positions(ids, eos_token_id):
    """CLIPTextTransformer's pooling rule: argmax(ids) for the legacy eos_token_id 2, else first eos."""
    import torch
    if eos_token_id == 2:
        return ids.to(dtype=torch.int).argmax(dim=-1)
    return (ids.to(dtype=torch.int) == eos_token_id).int().argmax(dim=-1)


def prompted_text_features(model, ids, ctx):
    """ids [C, L] (padded); ctx [n_ctx, Dt] replaces the token embeddings at positions 1..n_ctx."""
    import torch
    from transformers.modeling_attn_mask_utils import _create_4d_causal_attention_mask
    tm = model.text_model
    embeds = tm.embeddings.token_embedding(ids)
    n_ctx = ctx.shape[0]
    embeds = torch.cat([embeds[:, :1], ctx.unsqueeze(0).expand(ids.shape[0], -1, -1), embeds[:, 1 + n_ctx:]], dim=1)
    hidden = tm.embeddings(inputs_embeds=embeds)
    causal = _create_4d_causal_attention_mask(ids.shape, hidden.dtype, device=hidden.device)
    hidden = tm.encoder(inputs_embeds=hidden, attention_mask=None, causal_attention_mask=causal).last_hidden_state
    hidden = tm.final_layer_norm(hidden)
    pos = pool_positions(ids, model.config.text_config.eos_token_id)
    pooled = hidden[torch.arange(ids.shape[0]), pos]
    return model.text_projection(pooled)


def prompted_image_features(model, pixel_values, prompts):
    """prompts [n_vp, Dv] inserted right after the class token, without position embeddings."""
    import torch
    vm = model.vision_model
    hidden = vm.embeddings(pixel_values)
    b = hidden.shape[0]
    hidden = torch.cat([hidden[:, :1], prompts.unsqueeze(0).expand(b, -1, -1), hidden[:, 1:]], dim=1)
    hidden = vm.pre_layrnorm(hidden)
    hidden = vm.encoder(inputs_embeds=hidden).last_hidden_state
    pooled = vm.post_layernorm(hidden[:, 0])
    return model.visual_projection(pooled)


def normalize(x):
    return x / x.norm(p=2, dim=-1, keepdim=True)


# ----------------------------------------------------------------------------------------------
# References

def references(model, tok, proc, images_dir, seed):
    import numpy as np
    import torch
    from PIL import Image
    tc, vc = model.config.text_config, model.config.vision_config
    context, size = tc.max_position_embeddings, vc.image_size
    g = torch.Generator().manual_seed(seed + 1000)

    noise = torch.randn((2, 3, size, size), generator=g, dtype=torch.float32)
    with Image.open(os.path.join(images_dir, IMAGE_FILE)) as im:
        photo = proc(images=im, return_tensors="np")["pixel_values"]
    assert photo.dtype == np.float32 and photo.shape == (1, 3, size, size), (photo.dtype, photo.shape)
    pixel_values = torch.cat([noise, torch.from_numpy(photo)], dim=0)

    text_ids = [encode(tok, t, context, padded=True) for t in TEXTS]
    ids = torch.tensor(text_ids, dtype=torch.long)
    prompts = [TEMPLATE.format(c) for c in CLASS_NAMES]
    prompt_ids = [encode(tok, p, context, padded=True) for p in prompts]
    pids = torch.tensor(prompt_ids, dtype=torch.long)
    prefix = encode(tok, CTX_PREFIX, context, padded=False)
    n_ctx = len(prefix) - 2
    assert n_ctx == 4, prefix
    for p in prompt_ids:
        assert p[1:1 + n_ctx] == prefix[1:-1], (p, prefix)
    if tc.eos_token_id == 2:  # the legacy rule must find the first eos too
        for row in text_ids + prompt_ids:
            assert int(torch.tensor(row).argmax()) == row.index(EOS_ID)

    ctx = 0.5 * torch.randn((n_ctx, tc.hidden_size), generator=g, dtype=torch.float32)
    visual_prompts = 0.5 * torch.randn((N_VISUAL_PROMPTS, vc.hidden_size), generator=g, dtype=torch.float32)

    out, checks = {}, {}
    with torch.no_grad():
        out["pixel_values"] = pixel_values
        out["image_features"] = model.get_image_features(pixel_values=pixel_values)
        out["vision_last_hidden"] = model.vision_model(pixel_values=pixel_values[:1]).last_hidden_state[0]
        out["text_features"] = model.get_text_features(input_ids=ids)
        eos0 = text_ids[0].index(EOS_ID)
        out["text_last_hidden_0"] = model.text_model(input_ids=ids[:1]).last_hidden_state[0, :eos0 + 1]
        fwd = model(input_ids=ids, pixel_values=pixel_values)
        out["logits_per_image"] = fwd.logits_per_image
        out["logit_scale"] = model.logit_scale.detach().reshape(1)
        out["ctx"] = ctx
        out["prompted_text_features"] = prompted_text_features(model, pids, ctx)
        out["visual_prompts"] = visual_prompts
        out["prompted_image_features"] = prompted_image_features(model, pixel_values, visual_prompts)
        out["prompted_logits"] = model.logit_scale.exp() * normalize(out["prompted_image_features"]) \
            @ normalize(out["prompted_text_features"]).T

        # Self-checks of the manual paths and of the HF behaviour the Swift side relies on.
        base_ctx = model.text_model.embeddings.token_embedding(torch.tensor(prefix[1:-1]))
        d = (prompted_text_features(model, pids, base_ctx) - model.get_text_features(input_ids=pids)).abs().max()
        assert d <= 1e-6, f"manual text path differs by {d}"
        checks["manual_text_path_max_abs_diff"] = float(d)
        empty = torch.zeros((0, vc.hidden_size))
        d = (prompted_image_features(model, pixel_values, empty) - out["image_features"]).abs().max()
        assert d <= 1e-6, f"manual vision path differs by {d}"
        checks["manual_vision_path_max_abs_diff"] = float(d)
        manual = model.logit_scale.exp() * normalize(out["image_features"]) @ normalize(out["text_features"]).T
        d = (manual - out["logits_per_image"]).abs().max()
        assert d <= 1e-5, d
        # Padding: features of the unpadded ids, and with the padding attention mask, agree.
        for i, row in enumerate(text_ids):
            short = torch.tensor([unpadded(row)])
            d = (model.get_text_features(input_ids=short)[0] - out["text_features"][i]).abs().max()
            assert d <= 1e-5, (i, d)
        mask = (torch.arange(context)[None, :] <= torch.tensor([r.index(EOS_ID) for r in text_ids])[:, None]).long()
        d = (model.get_text_features(input_ids=ids, attention_mask=mask) - out["text_features"]).abs().max()
        assert d <= 1e-5, d
        checks["attention_mask_max_abs_diff"] = float(d)

    out = {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}
    meta = {
        "texts": TEXTS,
        "text_ids": [unpadded(r) for r in text_ids],
        "template": TEMPLATE,
        "class_names": CLASS_NAMES,
        "prompt_ids": [unpadded(r) for r in prompt_ids],
        "n_ctx": n_ctx,
        "n_visual_prompts": N_VISUAL_PROMPTS,
        "image_files": [None, None, IMAGE_FILE],
    }
    return out, meta, checks


def versions():
    import ftfy
    import PIL
    import safetensors
    import torch
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "python": sys.version.split()[0], "safetensors": safetensors.__version__,
            "pillow": PIL.__version__, "ftfy": ftfy.__version__}


def write_json(path, obj, one_per_line=("token_cases",)):
    parts = []
    for k, v in obj.items():
        if k in one_per_line and v:
            body = "[\n" + ",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in v) + "\n ]"
        else:
            body = json.dumps(v, ensure_ascii=False)
        parts.append(f" {json.dumps(k)}: {body}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


def save_reference(folder, name, out, meta, extra, token_cases):
    from safetensors.torch import save_file
    save_file(out, os.path.join(folder, "reference.safetensors"),
              metadata={"generator": "tools/make_clip_fixtures.py"})  # one key: safetensors orders keys by hash
    obj = {"config": name, **meta, **extra, "token_cases": token_cases, "versions": versions()}
    write_json(os.path.join(folder, "reference.json"), obj)


# ----------------------------------------------------------------------------------------------

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fixtures = os.path.join(root, "Tests/TTADModelTests/Fixtures")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(fixtures, "clip-models"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    import transformers
    if int(transformers.__version__.split(".")[0]) >= 5:
        sys.exit("needs transformers 4.x (slow ftfy CLIPTokenizer); pip install 'transformers<5'")
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    from transformers import CLIPImageProcessor, CLIPModel

    tokenizer_dir = os.path.join(fixtures, "clip-tokenizer")
    images_dir = os.path.join(fixtures, "images")
    with open(os.path.join(tokenizer_dir, "tokens.json"), encoding="utf-8") as f:
        token_strings = [e["text"] for e in json.load(f)]
    assert len(token_strings) >= 200

    results, summary = {}, {}
    for index, (name, spec) in enumerate(MODELS.items()):
        folder = os.path.join(args.out_dir, name)
        os.makedirs(folder, exist_ok=True)
        write_vocab(tokenizer_dir, folder)
        tok = load_tokenizer(folder)
        config = make_config(spec)
        torch.manual_seed(args.seed + index)
        model = CLIPModel(config)
        init_parameters(model, args.seed * 100 + index)
        model.eval()
        model.save_pretrained(folder, safe_serialization=True)
        size = spec["vision"]["image_size"]
        image_processor(size).save_pretrained(folder)

        model = load_model(folder)
        proc = CLIPImageProcessor.from_pretrained(folder)
        assert type(proc).__name__ == "CLIPImageProcessor"
        out, meta, checks = references(model, tok, proc, images_dir, args.seed)
        context = spec["text"]["max_position_embeddings"]
        cases = [{"text": s, "ids": encode(tok, s, context, padded=False)} for s in token_strings]
        save_reference(folder, name, out, meta, {}, cases)
        results[name] = out
        summary[name] = checks

    for name, (base, dtype_name) in HALF_MODELS.items():
        dtype = getattr(torch, dtype_name)
        folder = os.path.join(args.out_dir, name)
        os.makedirs(folder, exist_ok=True)
        base_folder = os.path.join(args.out_dir, base)
        write_vocab(tokenizer_dir, folder)
        tok = load_tokenizer(folder)
        half = load_model(base_folder).to(dtype)
        half.save_pretrained(folder, safe_serialization=True)
        image_processor(MODELS[base]["vision"]["image_size"]).save_pretrained(folder)
        want = "F16" if dtype == torch.float16 else "BF16"
        dtypes = safetensors_dtypes(os.path.join(folder, "model.safetensors"))
        assert dtypes and set(dtypes.values()) == {want}, set(dtypes.values())

        model = load_model(folder)
        for (k, p), (_, q) in zip(model.state_dict().items(), half.state_dict().items()):
            assert torch.equal(p, q.to(torch.float32)), k
        proc = CLIPImageProcessor.from_pretrained(folder)
        out, meta, checks = references(model, tok, proc, images_dir, args.seed)
        ref = results[base]
        assert torch.equal(out["pixel_values"], ref["pixel_values"])
        diffs = {k: float((out[k] - ref[k]).abs().max())
                 for k in ("image_features", "text_features", "prompted_image_features", "prompted_text_features",
                           "logits_per_image", "prompted_logits")}
        extra = {"weights_dtype": dtype_name, "reference_computed_in": "float32 from the rounded weights",
                 "max_abs_diff_vs_" + base: diffs}
        save_reference(folder, name, out, meta, extra, [])
        summary[name] = {**checks, "max_abs_diff_vs_" + base: diffs}

    report = {}
    for name in list(MODELS) + list(HALF_MODELS):
        folder = os.path.join(args.out_dir, name)
        files = {}
        for fn in sorted(os.listdir(folder)):
            os.chmod(os.path.join(folder, fn), 0o644)  # safetensors writes 0600
            data = open(os.path.join(folder, fn), "rb").read()
            files[fn] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()[:16]}
        report[name] = {"files": files, "checks": summary[name]}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
