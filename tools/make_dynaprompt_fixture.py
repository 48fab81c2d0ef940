#!/usr/bin/env python3
"""Make the DynaPrompt step fixture, Tests/TTADModelTests/Fixtures/dynaprompt/tiny.{safetensors,json} (one command).

    /tmp/tokvenv/bin/python tools/make_dynaprompt_fixture.py       # from the repository root

(the venv of tools/make_clip_fixtures.py: torch CPU, transformers 4.x.) Options: --models-dir (default
Tests/TTADModelTests/Fixtures/clip-models), --out-dir (default Tests/TTADModelTests/Fixtures/dynaprompt),
--seed (default 0). Deterministic for a given seed, the committed clip-models/tiny folder and the package
versions recorded in tiny.json (fixed seeds, one CPU thread, eager attention, deterministic algorithms).

What it is: one per-sample DynaPrompt computation (Xiao et al., ICLR 2025; the official code's
test_time_tuning, see /work/shared/research/methods.md section 2) on the committed random checkpoint
clip-models/tiny, the model, class prompts and prompted text forward of tools/make_clip_grad_fixtures.py
(imported from tools/make_clip_fixtures.py: prompted_text_features, prompted_image_features, normalize).
The buffer logic (which prompts are selected) is not part of it: the selection is given.

Inputs (saved):
    views [V=8, 3, S, S]   standard normal pixel values, torch.Generator seeded with seed + 9000
    init_ctx [4, Dt]       = clip-models/tiny/reference.safetensors "ctx" (the fresh prompt's context)
    residuals [M=3, 4, Dt] 0.05 * standard normal, seeded with seed + 9001: the buffer's ctx parameter
    selected               slots [2, 0] (json), the prompts adapted and predicted with
    class prompts          reference.json "prompt_ids" (5 classes), padded with <|endoftext|>

Forward: img = normalize(prompted_image_features(views, no prompts)) [V, P]; for prompt i the text
features t_i = normalize(prompted_text_features(prompt_ids, init_ctx + residual_i)) [C, P]; logits
z_i = exp(logit_scale) * img @ t_i.T [V, C]. The fresh prompt has residual 0.

Phase 1 (score), for the M slot prompts and then the fresh prompt (index M):
    entropy [M+1]      E_i = mean over all V views of H(softmax(z_i(x_j)))
    difference [M+1]   D_i = mean over j = 1..V-1 of max_c z_i(x_0) - max_c z_i(x_j)   (logits, the code's plpd)
Phase 2 (update) on the selected prompts S:
    view_entropy [V]   per-view entropy averaged over S
    kept [k]           argsort ascending of view_entropy, first int(V * 0.25) = 2 (as floats)
    loss [1]           mean over i in S of avg_entropy(z_i[kept]) (TPT's entropy of the mean probability)
    grad [M, 4, Dt]    d loss / d residuals (zero rows for the unselected slot)
    residuals_after    torch.optim.AdamW([residuals], lr=5e-3, betas=(0.9, 0.999), eps=1e-8,
                       weight_decay=0.01), fresh state, one step: every row decays, the selected move
    prediction [C]     mean over i in S of z_i(x_0) under residuals_after

Self-checks: the imported forward reproduces clip-models/tiny prompted_logits (1e-5); a clear entropy gap at
the view cut; the AdamW step equals its closed form; the unselected row is exactly residual * (1 - lr * wd);
the gradient is finite and non-zero on the selected rows.
"""

import argparse
import importlib.util
import json
import math
import os
import sys

sys.modules["torchvision"] = None  # the installed torchvision is broken; transformers must not import it

NAME = "tiny"
V = 8
M = 3
SELECTED = [2, 0]
KEEP_FRACTION = 0.25
RESIDUAL_STD = 0.05
ADAMW = dict(lr=5e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def _grad_fixture_tools():
    """tools/make_clip_grad_fixtures.py, whose loader, hashing and version record this reuses."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_clip_grad_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_clip_grad_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_grad = _grad_fixture_tools()
load_fixture_module, sha256_file, versions = _grad.load_fixture_module, _grad.sha256_file, _grad.versions


def per_view_entropy(logits):
    return -(logits.softmax(-1) * logits.log_softmax(-1)).sum(-1)


def avg_entropy(logits):
    """TPT's avg_entropy: the entropy of the mean of the rows' softmax, in log space."""
    import torch
    logp = logits - logits.logsumexp(dim=-1, keepdim=True)
    avg = logp.logsumexp(dim=0) - math.log(logp.shape[0])
    avg = torch.clamp(avg, min=torch.finfo(avg.dtype).min)
    return -(avg * torch.exp(avg)).sum(dim=-1)


def make(mcf, models_dir, seed):
    import torch
    from safetensors.torch import load_file

    folder = os.path.join(models_dir, NAME)
    with open(os.path.join(folder, "reference.json"), encoding="utf-8") as f:
        ref_meta = json.load(f)
    ref = load_file(os.path.join(folder, "reference.safetensors"))
    model = mcf.load_model(folder)
    for p in model.parameters():
        p.requires_grad_(False)
    tc, vc = model.config.text_config, model.config.vision_config
    context, size = tc.max_position_embeddings, vc.image_size
    prompt_ids = ref_meta["prompt_ids"]
    pids = torch.tensor([row + [mcf.EOS_ID] * (context - len(row)) for row in prompt_ids], dtype=torch.long)
    init_ctx = ref["ctx"].clone()
    n_ctx = init_ctx.shape[0]
    no_prompts = torch.zeros((0, vc.hidden_size))
    scale = model.logit_scale.exp()

    checks = {}
    with torch.no_grad():
        img = mcf.prompted_image_features(model, ref["pixel_values"], ref["visual_prompts"])
        txt = mcf.prompted_text_features(model, pids, init_ctx)
        again = scale * mcf.normalize(img) @ mcf.normalize(txt).T
    d = float((again - ref["prompted_logits"]).abs().max())
    assert d <= 1e-5, f"prompted_logits differ from clip-models reference by {d}"
    checks["reference_prompted_logits_max_abs_diff"] = d

    views = torch.randn((V, 3, size, size), generator=torch.Generator().manual_seed(seed + 9000), dtype=torch.float32)
    residuals0 = RESIDUAL_STD * torch.randn((M, n_ctx, tc.hidden_size),
                                            generator=torch.Generator().manual_seed(seed + 9001), dtype=torch.float32)
    with torch.no_grad():
        img_n = mcf.normalize(mcf.prompted_image_features(model, views, no_prompts))

    def logits_of(residual):
        return scale * img_n @ mcf.normalize(mcf.prompted_text_features(model, pids, init_ctx + residual)).T

    out = {"views": views, "init_ctx": init_ctx, "residuals": residuals0.clone()}

    # ---- Phase 1: E and D of every slot prompt, then the fresh prompt.
    with torch.no_grad():
        all_logits = [logits_of(residuals0[i]) for i in range(M)] + [logits_of(torch.zeros_like(init_ctx))]
    ent = torch.stack([per_view_entropy(z).mean() for z in all_logits])
    diff = torch.stack([(z[0].max() - z[1:].max(dim=-1).values).mean() for z in all_logits])
    out["logits"] = torch.stack(all_logits)
    out["entropy"] = ent
    out["difference"] = diff

    # ---- Phase 2: loss on the selected prompts, one AdamW step over the whole buffer parameter.
    param = torch.nn.Parameter(residuals0.clone())
    opt = torch.optim.AdamW([param], **ADAMW)
    sel_logits = torch.stack([logits_of(param[i]) for i in SELECTED], dim=1)       # [V, |S|, C]
    view_entropy = per_view_entropy(sel_logits.detach()).mean(dim=1)                 # [V]
    keep = int(V * KEEP_FRACTION)
    kept = torch.argsort(view_entropy, descending=False)[:keep]
    sorted_ent = view_entropy.sort().values
    gap = float(sorted_ent[keep] - sorted_ent[keep - 1])
    assert gap > 1e-4 * float(sorted_ent.abs().max()), f"entropy near-tie at the view cut ({gap})"
    checks["view_selection_entropy_gap"] = gap
    loss = torch.stack([avg_entropy(sel_logits[kept, a]) for a in range(len(SELECTED))]).mean()
    opt.zero_grad()
    loss.backward()
    grad = param.grad.detach().clone()
    opt.step()
    after = param.detach().clone()
    with torch.no_grad():
        prediction = torch.stack([logits_of(after[i])[0] for i in SELECTED]).mean(dim=0)
    out["view_entropy"] = view_entropy
    out["kept"] = kept.to(torch.float32)
    out["loss"] = loss.detach().reshape(1)
    out["grad"] = grad
    out["residuals_after"] = after
    out["prediction"] = prediction

    # ---- Self-checks
    for i in range(M):
        g = grad[i]
        if i in SELECTED:
            assert torch.isfinite(g).all() and g.abs().max() > 0, f"slot {i}: gradient not finite or all zero"
        else:
            assert g.abs().max() == 0, f"slot {i}: unselected but gradient non-zero"
    lr, (b1, b2), eps, wd = ADAMW["lr"], ADAMW["betas"], ADAMW["eps"], ADAMW["weight_decay"]
    p, g = residuals0.double() * (1 - lr * wd), grad.double()
    m, v = (1 - b1) * g, (1 - b2) * g * g
    p = p - lr * (m / (1 - b1)) / ((v / (1 - b2)).sqrt() + eps)
    d = float((p - after.double()).abs().max())
    assert d <= 1e-6, f"AdamW closed form differs by {d}"
    checks["adamw_closed_form_max_abs_diff"] = d
    unselected = [i for i in range(M) if i not in SELECTED]
    decay = torch.tensor(1 - lr * wd, dtype=torch.float32)
    for i in unselected:
        assert torch.equal(after[i], residuals0[i] * decay), f"slot {i}: not exactly the decayed residual"
    for k, x in out.items():
        assert torch.isfinite(x).all(), f"{k} not finite"

    out = {k: x.detach().to(torch.float32).contiguous() for k, x in out.items()}
    meta = {
        "model": NAME,
        "model_folder": f"clip-models/{NAME}",
        "model_sha256": {fn: sha256_file(os.path.join(folder, fn)) for fn in ("model.safetensors", "reference.safetensors")},
        "views_seed": seed + 9000,
        "residuals_seed": seed + 9001,
        "residual_std": RESIDUAL_STD,
        "V": V,
        "M": M,
        "n_ctx": n_ctx,
        "selected": SELECTED,
        "keep_fraction": KEEP_FRACTION,
        "kept_count": keep,
        "kept": [int(i) for i in kept],
        "unselected": unselected,
        "prompt_ids": prompt_ids,
        "class_names": ref_meta["class_names"],
        "logit_scale_exp": float(scale),
        "adamw": {**ADAMW, "betas": list(ADAMW["betas"]), "params": "residuals (M, n_ctx, Dt), fresh state, one step"},
        "definitions": {
            "entropy": "E_i = mean over all V views of H(softmax(z_i(x_j))); index M is the fresh prompt (residual 0)",
            "difference": "D_i = mean over j = 1..V-1 of max_c z_i(x_0) - max_c z_i(x_j) (logits)",
            "view_entropy": "per-view entropy averaged over the selected prompts (detached)",
            "loss": "mean over selected i of the entropy of the mean softmax over the kept views of z_i",
            "prediction": "mean over selected i of z_i(x_0) under residuals_after",
        },
        "tensors": {k: {"shape": list(x.shape), "max_abs": float(x.abs().max())} for k, x in out.items()},
        "checks": checks,
    }
    return out, meta


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fixtures = os.path.join(root, "Tests/TTADModelTests/Fixtures")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default=os.path.join(fixtures, "clip-models"))
    ap.add_argument("--out-dir", default=os.path.join(fixtures, "dynaprompt"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    import transformers
    from safetensors.torch import save_file
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    mcf = load_fixture_module(root)
    os.makedirs(args.out_dir, exist_ok=True)

    out, meta = make(mcf, args.models_dir, args.seed)
    meta["versions"] = versions()
    st_path = os.path.join(args.out_dir, f"{NAME}.safetensors")
    save_file(out, st_path, metadata={"generator": "tools/make_dynaprompt_fixture.py"})
    json_path = os.path.join(args.out_dir, f"{NAME}.json")
    with open(json_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    for path in (st_path, json_path):
        os.chmod(path, 0o644)  # safetensors writes 0600
    print(json.dumps({os.path.basename(p): {"bytes": os.path.getsize(p), "sha256": sha256_file(p)[:16]}
                      for p in (st_path, json_path)} | {"checks": meta["checks"]}, indent=1))


if __name__ == "__main__":
    main()
