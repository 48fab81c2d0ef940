#!/usr/bin/env python3
"""PyTorch reference timing of one TPT step (the work ttad's TPTStep does), for side-by-side comparison.

Run (from the repository root; the venv of tools/make_clip_fixtures.py: torch CPU, transformers 4.x):
    /tmp/tokvenv/bin/python tools/bench_tpt_torch.py --shape b32 --classes 100 --threads 1
    /tmp/tokvenv/bin/python tools/bench_tpt_torch.py --shape b32 --classes 1000 --threads 1 --reps 1

What one step is (TPT, Shu et al. 2022, as azshue/TPT's tpt_classification.py with custom_clip.py):
  * model: transformers CLIPModel with seeded random weights, float32, eval, CLIPConfig() defaults
    (= openai/clip-vit-base-patch32) for --shape b32, the same with patch 16 for b16; frozen;
  * prompt learner (CoOp style): prompts "a photo of a {name}." tokenized with the real CLIP BPE
    (Tests/TTADModelTests/Fixtures/clip-tokenizer), padded to 77 as TPT does; the 4 token embeddings of
    "a photo of a" become the learnable context ctx [4, 512], spliced between the start token's embedding
    and each class's suffix embeddings (fixed buffers, computed once outside the timing);
  * episodic reset: ctx back to its initial value, fresh AdamW state (TPT resets before every sample);
  * 64 views [64, 3, 224, 224] (random pixels; the cost does not depend on values) encoded without grad,
    L2-normalised; class features from the prompt learner through the text tower with grad, normalised;
    logits = exp(logit_scale) * image @ text.T;
  * keep the int(64 * 0.1) = 6 views of lowest entropy; loss = entropy of their mean softmax (TPT's
    avg_entropy); backward to ctx; one AdamW step (lr 5e-3, betas (0.9, 0.999), weight_decay 0.01);
  * prediction: no grad, view 0 through the image tower and all class prompts with the updated ctx.
Not included: augmentation, image decoding, AMP (TPT autocasts on GPU; on CPU float32 is the baseline).

Timing: --warmup untimed steps, then --reps timed ones; the median is reported. Peak RSS of the process
(ru_maxrss) covers the whole run, model included. Output: one JSON line
{"impl": "torch", "shape", "threads", "classes", "step_s", "peak_rss_mib", ...} (also written to --json).
The class names are those of tools/bench_clip_torch.py and `ttad bench-clip`, so both sides encode
identical prompts.
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

sys.modules["torchvision"] = None  # the installed torchvision is broken; transformers must not import it

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer  # noqa: E402
from transformers.modeling_attn_mask_utils import _create_4d_causal_attention_mask  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_DIR = os.path.join(REPO_ROOT, "Tests", "TTADModelTests", "Fixtures", "clip-tokenizer")
VIEWS = 64
SELECTION_P = 0.1
CTX_INIT = "a photo of a"
TEMPLATE = CTX_INIT + " {}."
ADAMW = dict(lr=5e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

ADJECTIVES = ["red", "small", "striped", "wooden", "ancient", "shiny", "folded", "electric",
              "tropical", "miniature", "rusty", "transparent"]
NOUNS = ["widget", "bird", "teapot", "bicycle", "lantern", "mountain goat", "sailing boat",
         "umbrella", "violin", "armchair", "cactus", "lighthouse", "pocket watch"]


def class_names(n):
    return [f"{ADJECTIVES[i % len(ADJECTIVES)]} {NOUNS[(i // len(ADJECTIVES)) % len(NOUNS)]} {i}"
            for i in range(n)]


class PromptLearner(torch.nn.Module):
    """CoOp's prompt learner as TPT uses it: [start] ctx_1..ctx_n [class tokens . end pad...]."""

    def __init__(self, model, tokenizer, names):
        super().__init__()
        context = model.config.text_config.max_position_embeddings
        n_ctx = len(CTX_INIT.split())
        ids = tokenizer([TEMPLATE.format(n) for n in names], padding="max_length", max_length=context,
                        truncation=True, return_tensors="pt").input_ids
        with torch.no_grad():
            embedding = model.text_model.embeddings.token_embedding(ids)
        self.register_buffer("ids", ids)
        self.register_buffer("prefix", embedding[:, :1].clone())
        self.register_buffer("suffix", embedding[:, 1 + n_ctx:].clone())
        self.ctx_init = embedding[0, 1:1 + n_ctx].clone()
        self.ctx = torch.nn.Parameter(self.ctx_init.clone())

    def reset(self):
        with torch.no_grad():
            self.ctx.copy_(self.ctx_init)

    def forward(self):
        c = self.prefix.shape[0]
        return torch.cat([self.prefix, self.ctx.unsqueeze(0).expand(c, -1, -1), self.suffix], dim=1)


def text_features(model, learner):
    """TPT's TextEncoder on the HF modules: positions added, causal blocks, final LN, pooled at the end token."""
    tm = model.text_model
    hidden = tm.embeddings(inputs_embeds=learner())
    causal = _create_4d_causal_attention_mask(learner.ids.shape, hidden.dtype, device=hidden.device)
    hidden = tm.encoder(inputs_embeds=hidden, attention_mask=None, causal_attention_mask=causal).last_hidden_state
    hidden = tm.final_layer_norm(hidden)
    eos = model.config.text_config.eos_token_id
    pool = learner.ids.argmax(dim=-1) if eos == 2 else (learner.ids == eos).int().argmax(dim=-1)
    pooled = hidden[torch.arange(hidden.shape[0]), pool]
    return model.text_projection(pooled)


def normalize(x):
    return x / x.norm(dim=-1, keepdim=True)


def avg_entropy(logits):
    logp = logits - logits.logsumexp(dim=-1, keepdim=True)
    avg = logp.logsumexp(dim=0) - math.log(logp.shape[0])
    avg = torch.clamp(avg, min=torch.finfo(avg.dtype).min)
    return -(avg * torch.exp(avg)).sum(dim=-1)


def tpt_step(model, learner, optimizer, views):
    """One episodic TPT step; returns view 0's logits under the updated context."""
    learner.reset()
    optimizer.state.clear()  # == load_state_dict(initial state): fresh moments, step 0
    scale = model.logit_scale.exp()
    with torch.no_grad():
        image = normalize(model.get_image_features(pixel_values=views))
    logits = scale * image @ normalize(text_features(model, learner)).t()
    entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1)
    keep = int(logits.shape[0] * SELECTION_P)
    idx = torch.argsort(entropy, descending=False)[:keep]
    loss = avg_entropy(logits[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        image0 = normalize(model.get_image_features(pixel_values=views[:1]))
        return scale * image0 @ normalize(text_features(model, learner)).t()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=["b32", "b16"], default="b32")
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--tokenizer-dir", default=TOKENIZER_DIR, help="folder with CLIP's vocab.json and merges.txt")
    args = ap.parse_args()

    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)
    config = CLIPConfig()
    if args.shape == "b16":
        config.vision_config.patch_size = 16
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    tokenizer = CLIPTokenizer(os.path.join(args.tokenizer_dir, "vocab.json"), os.path.join(args.tokenizer_dir, "merges.txt"))
    learner = PromptLearner(model, tokenizer, class_names(args.classes))
    optimizer = torch.optim.AdamW([learner.ctx], **ADAMW)
    # Self-check: with the initial context the prompt learner's path is get_text_features on the token ids.
    with torch.no_grad():
        n = min(8, args.classes)
        ours = text_features(model, learner)[:n]
        ref = model.get_text_features(input_ids=learner.ids[:n])
        assert torch.allclose(ours, ref, atol=1e-5), float((ours - ref).abs().max())
    size = config.vision_config.image_size
    views = torch.randn((VIEWS, 3, size, size), generator=torch.Generator().manual_seed(1))

    for _ in range(args.warmup):
        tpt_step(model, learner, optimizer, views)
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        out = tpt_step(model, learner, optimizer, views)
        times.append(time.perf_counter() - t0)
    assert out.shape == (1, args.classes) and torch.isfinite(out).all()

    res = {"impl": "torch", "shape": args.shape, "threads": args.threads, "classes": args.classes,
           "step_s": statistics.median(times), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "reps": args.reps, "step_s_all": times, "views": VIEWS, "kept": int(VIEWS * SELECTION_P),
           "text_tokens": int(learner.ids.shape[1]), "torch": torch.__version__,
           "transformers": transformers.__version__, "attn_implementation": model.config._attn_implementation}
    line = json.dumps(res)
    print(line)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
