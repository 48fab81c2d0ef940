#!/usr/bin/env python3
"""Make the CLIP test-time-adaptation gradient fixtures, Tests/TTADModelTests/Fixtures/clip-grads (one command).

    /tmp/tokvenv/bin/python tools/make_clip_grad_fixtures.py       # from the repository root

(the venv of tools/make_clip_fixtures.py: torch 2.13 CPU, transformers 4.x.) Options: --models-dir (default
Tests/TTADModelTests/Fixtures/clip-models), --out-dir (default Tests/TTADModelTests/Fixtures/clip-grads),
--seed (default 0). Output is byte-identical between runs for a given seed, the committed clip-models
folders and the package versions recorded in <name>.json (fixed seeds, one CPU thread, eager attention,
deterministic algorithms, one safetensors metadata key).

Models: the committed random checkpoints clip-models/tiny and clip-models/quick, loaded with
CLIPModel.from_pretrained (float32, eager attention). The prompted forward passes are imported from
tools/make_clip_fixtures.py (prompted_text_features, prompted_image_features, normalize), i.e. the path
whose outputs are already in clip-models/<name>/reference.safetensors; the script checks that it still
reproduces that file's prompted_logits.

Inputs (saved too):
    views [V=8, 3, S, S]   standard normal pixel values, torch.Generator seeded with seed + 7000 + model index
    ctx [4, Dt]            = clip-models/<name>/reference.safetensors "ctx"
    visual_prompts [3, Dv] = clip-models/<name>/reference.safetensors "visual_prompts"
    class prompts          reference.json "prompt_ids" (5 classes), padded with <|endoftext|> to the text
                           context as in make_clip_fixtures.py

Forward: img = prompted_image_features(views, visual_prompts) [V, P]; txt = prompted_text_features(
prompt_ids, ctx) [C, P]; logits = exp(logit_scale) * normalize(img) @ normalize(txt).T [V, C].

Losses:
    TPT (Shu et al. 2022, as the official code): entropy_v = -sum_c softmax(logits_v)_c log_softmax(logits_v)_c;
        keep the int(V * 0.5) = 4 views of lowest entropy (argsort ascending, "selected" in that order);
        loss = avg_entropy(logits[selected]): l = logits - logsumexp_c(logits) per row; a = logsumexp over the
        kept rows of l - log(4) (log of the mean probability), clamped below at float32 min (a no-op);
        loss = -sum_c a_c exp(a_c).
    Tent: mean over all V views of entropy_v (same logits, same ctx and visual prompts).

Trainable sets: ctx, visual_prompts, and every vision-tower LayerNorm affine parameter (pre_layrnorm, each
layer's layer_norm1 / layer_norm2, post_layernorm; weight and bias), named as in CLIPModel
(vision_model.pre_layrnorm.weight, ...). Everything else is frozen.

<name>.safetensors (all F32):
    views, ctx, visual_prompts            the inputs above
    logits [V, C]                         at the inputs
    entropy [V]                           per-view entropy (debugging)
    selected [4]                          kept view indices (as floats), lowest entropy first
    loss [1]                              TPT loss
    grad_ctx [4, Dt]                      d TPT / d ctx
    grad_visual_prompts [3, Dv]           d TPT / d visual_prompts
    grad/<ln param> [D]                   d TPT / d each vision LayerNorm weight and bias
    tent/loss [1]                         Tent loss
    tent/grad/<ln param> [D]              d Tent / d each vision LayerNorm weight and bias
    adamw/ctx_after1 [4, Dt]              torch.optim.AdamW(lr=5e-3, betas=(0.9, 0.999), eps=1e-8,
                                          weight_decay=0.01) on ctx alone, one step with grad_ctx
    adamw/loss2 [1], adamw/grad_ctx2      TPT loss and d/d ctx at ctx_after1 (same kept views, as TPT reuses
                                          the step-1 selection; the script checks that re-selecting would
                                          keep the same views)
    adamw/ctx_after2 [4, Dt]              the second AdamW step (step count 2: bias corrections 1 - 0.9^2,
                                          1 - 0.999^2)
    sam/grad_norm [1]                     joint L2 norm of tent/grad over all LayerNorm params
    sam/perturbed_loss [1]                Tent loss at w + e_w
    sam/perturbed_grad/<ln param>         d Tent / d LN param at w + e_w, e_w = 0.05 * g / (||g|| + 1e-12)
    sam/<ln param>                        the LN param after one full SAM step (as SAR's sam.py: first_step
                                          perturbs, gradient at the perturbed point, second_step restores w
                                          and runs the base optimizer) with base torch.optim.SGD(lr=1e-3,
                                          momentum=0.9) on fresh state, i.e. w - 1e-3 * perturbed_grad

<name>.json: hyperparameters, loss definitions, V, kept count, selected, entropies, the LayerNorm parameter
names in order, tensor shapes, magnitude statistics of every saved tensor (max |x|, rms), the self-check
numbers, sha256 of the model files used, versions.

Self-checks: the imported forward reproduces clip-models/<name> prompted_logits (1e-5); every gradient is
finite and not all zero; the selection has a clear entropy gap; AdamW and SAM results equal their closed
forms; in float64 (a double copy of the model, SDPA attention since HF's eager attention takes its
softmax in float32) central finite differences (h = 1e-5) agree with autograd to 1e-6 relative on a few
entries of ctx, visual_prompts and the LayerNorm params, and the float32 gradients agree with the float64
ones (the relative differences are recorded in the json: they are the float32 noise floor).
"""

import argparse
import copy
import hashlib
import importlib.util
import json
import math
import os
import sys

sys.modules["torchvision"] = None  # the installed torchvision is broken; transformers must not import it

V = 8
KEEP_FRACTION = 0.5
ADAMW = dict(lr=5e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
SAM_RHO = 0.05
SAM_EPS = 1e-12
SGD = dict(lr=1e-3, momentum=0.9)
MODEL_NAMES = ["tiny", "quick"]


def load_fixture_module(root):
    path = os.path.join(root, "tools", "make_clip_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_clip_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ----------------------------------------------------------------------------------------------
# Forward and losses

class Problem:
    """One model with its fixed inputs; the trainable tensors are passed in explicitly."""

    def __init__(self, mcf, model, views, pids):
        self.mcf, self.model, self.views, self.pids = mcf, model, views, pids

    def logits(self, ctx, visual_prompts):
        mcf, model = self.mcf, self.model
        img = mcf.prompted_image_features(model, self.views, visual_prompts)
        txt = mcf.prompted_text_features(model, self.pids, ctx)
        return model.logit_scale.exp() * mcf.normalize(img) @ mcf.normalize(txt).T


def per_view_entropy(logits):
    return -(logits.softmax(1) * logits.log_softmax(1)).sum(1)


def select_confident(logits):
    import torch
    entropy = per_view_entropy(logits)
    keep = int(entropy.shape[0] * KEEP_FRACTION)
    idx = torch.argsort(entropy, descending=False)[:keep]
    return idx, entropy


def avg_entropy(logits):
    """TPT's avg_entropy: the entropy of the mean of the rows' softmax, in log space."""
    import torch
    logp = logits - logits.logsumexp(dim=-1, keepdim=True)
    avg = logp.logsumexp(dim=0) - math.log(logp.shape[0])
    avg = torch.clamp(avg, min=torch.finfo(avg.dtype).min)
    return -(avg * torch.exp(avg)).sum(dim=-1)


def tpt_loss(logits, idx):
    return avg_entropy(logits[idx])


def tent_loss(logits):
    return per_view_entropy(logits).mean(0)


def vision_layer_norm_params(model):
    import torch
    ln_modules = {name for name, m in model.named_modules()
                  if isinstance(m, torch.nn.LayerNorm) and name.startswith("vision_model.")}
    named = [(n, p) for n, p in model.named_parameters() if n.rsplit(".", 1)[0] in ln_modules]
    layers = model.config.vision_config.num_hidden_layers
    assert len(named) == 2 * (2 + 2 * layers), [n for n, _ in named]
    assert named[0][0] == "vision_model.pre_layrnorm.weight" and named[-1][0] == "vision_model.post_layernorm.bias"
    return named


# ----------------------------------------------------------------------------------------------
# Fixture for one model

def make_one(mcf, name, models_dir, seed, index):
    import torch
    from safetensors.torch import load_file

    folder = os.path.join(models_dir, name)
    with open(os.path.join(folder, "reference.json"), encoding="utf-8") as f:
        ref_meta = json.load(f)
    ref = load_file(os.path.join(folder, "reference.safetensors"))
    model = mcf.load_model(folder)
    for p in model.parameters():
        p.requires_grad_(False)
    tc, vc = model.config.text_config, model.config.vision_config
    context, size = tc.max_position_embeddings, vc.image_size

    prompt_ids = ref_meta["prompt_ids"]
    assert len(prompt_ids) == 5 and ref_meta["n_ctx"] == 4
    pids = torch.tensor([row + [mcf.EOS_ID] * (context - len(row)) for row in prompt_ids], dtype=torch.long)
    ctx0 = ref["ctx"].clone()
    vp0 = ref["visual_prompts"].clone()
    assert ctx0.shape == (4, tc.hidden_size) and vp0.shape == (3, vc.hidden_size)
    views = torch.randn((V, 3, size, size), generator=torch.Generator().manual_seed(seed + 7000 + index),
                        dtype=torch.float32)

    checks = {}
    # The imported forward still gives the committed reference.
    with torch.no_grad():
        again = Problem(mcf, model, ref["pixel_values"], pids).logits(ctx0, vp0)
    d = float((again - ref["prompted_logits"]).abs().max())
    assert d <= 1e-5, f"{name}: prompted_logits differ from clip-models reference by {d}"
    checks["reference_prompted_logits_max_abs_diff"] = d

    prob = Problem(mcf, model, views, pids)
    ln_named = vision_layer_norm_params(model)
    ln_names = [n for n, _ in ln_named]
    ln_params = [p for _, p in ln_named]
    ln_initial = [p.detach().clone() for p in ln_params]
    out = {"views": views, "ctx": ctx0.clone(), "visual_prompts": vp0.clone()}

    # ---- TPT loss and gradients (ctx, visual prompts, vision LayerNorms)
    ctx = ctx0.clone().requires_grad_(True)
    vp = vp0.clone().requires_grad_(True)
    for p in ln_params:
        p.requires_grad_(True)
    logits = prob.logits(ctx, vp)
    idx, entropy = select_confident(logits.detach())
    loss = tpt_loss(logits, idx)
    grads = torch.autograd.grad(loss, [ctx, vp] + ln_params)
    out["logits"] = logits.detach()
    out["entropy"] = entropy
    out["selected"] = idx.to(torch.float32)
    out["loss"] = loss.detach().reshape(1)
    out["grad_ctx"] = grads[0]
    out["grad_visual_prompts"] = grads[1]
    for n, g in zip(ln_names, grads[2:]):
        out[f"grad/{n}"] = g
    sorted_ent = entropy.sort().values
    keep = idx.numel()
    assert keep == int(V * KEEP_FRACTION) == 4
    gap = float(sorted_ent[keep] - sorted_ent[keep - 1])
    assert gap > 1e-4 * float(sorted_ent.abs().max()), f"{name}: entropy near-tie at the selection cut ({gap})"
    checks["selection_entropy_gap"] = gap

    # ---- Tent loss and gradients (vision LayerNorms only)
    t_logits = prob.logits(ctx0, vp0)
    t_loss = tent_loss(t_logits)
    t_grads = torch.autograd.grad(t_loss, ln_params)
    out["tent/loss"] = t_loss.detach().reshape(1)
    for n, g in zip(ln_names, t_grads):
        out[f"tent/grad/{n}"] = g

    # ---- AdamW on ctx: two TPT steps (selection of step 1 reused, as TPT's test_time_tuning)
    for p in ln_params:
        p.requires_grad_(False)
    ctx_param = torch.nn.Parameter(ctx0.clone())
    opt = torch.optim.AdamW([ctx_param], **ADAMW)
    ctx_param.grad = out["grad_ctx"].clone()
    opt.step()
    out["adamw/ctx_after1"] = ctx_param.detach().clone()
    opt.zero_grad()
    logits2 = prob.logits(ctx_param, vp0)
    idx2, _ = select_confident(logits2.detach())
    assert torch.equal(idx2.sort().values, idx.sort().values), f"{name}: re-selection at step 2 differs"
    loss2 = tpt_loss(logits2, idx)
    loss2.backward()
    out["adamw/loss2"] = loss2.detach().reshape(1)
    out["adamw/grad_ctx2"] = ctx_param.grad.detach().clone()
    opt.step()
    out["adamw/ctx_after2"] = ctx_param.detach().clone()
    # Closed form of PyTorch's AdamW (decoupled decay first, bias-corrected moments, eps outside the sqrt).
    lr, (b1, b2), eps, wd = ADAMW["lr"], ADAMW["betas"], ADAMW["eps"], ADAMW["weight_decay"]
    p, m, v = ctx0.double(), 0.0, 0.0
    for step, g in ((1, out["grad_ctx"].double()), (2, out["adamw/grad_ctx2"].double())):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** step)) / ((v / (1 - b2 ** step)).sqrt() + eps)
        d = float((p - out[f"adamw/ctx_after{step}"].double()).abs().max())
        assert d <= 1e-6, f"{name}: AdamW closed form step {step} differs by {d}"
        checks[f"adamw_closed_form_step{step}_max_abs_diff"] = d

    # ---- SAM (SAR's sam.py, non-adaptive) around SGD with momentum, Tent loss, vision LayerNorms
    for p in ln_params:
        p.requires_grad_(True)
    g = [x.clone() for x in t_grads]
    grad_norm = torch.norm(torch.stack([x.norm(p=2) for x in g]), p=2)
    scale = SAM_RHO / (grad_norm + SAM_EPS)
    with torch.no_grad():
        for p, x in zip(ln_params, g):
            p.add_(x * scale)
    p_loss = tent_loss(prob.logits(ctx0, vp0))
    p_grads = torch.autograd.grad(p_loss, ln_params)
    with torch.no_grad():
        for p, w in zip(ln_params, ln_initial):
            p.copy_(w)
    sgd = torch.optim.SGD(ln_params, **SGD)
    for p, x in zip(ln_params, p_grads):
        p.grad = x.clone()
    sgd.step()
    out["sam/grad_norm"] = grad_norm.detach().reshape(1)
    out["sam/perturbed_loss"] = p_loss.detach().reshape(1)
    for n, x in zip(ln_names, p_grads):
        out[f"sam/perturbed_grad/{n}"] = x
    for n, p in zip(ln_names, ln_params):
        out[f"sam/{n}"] = p.detach().clone()
    d = max(float((out[f"sam/{n}"].double() - (w.double() - SGD["lr"] * x.double())).abs().max())
            for n, w, x in zip(ln_names, ln_initial, p_grads))
    assert d <= 1e-6, f"{name}: SAM/SGD closed form differs by {d}"
    checks["sam_closed_form_max_abs_diff"] = d
    with torch.no_grad():  # leave the model as loaded
        for p, w in zip(ln_params, ln_initial):
            p.copy_(w)
            p.requires_grad_(False)

    # ---- Finite, non-zero gradients
    grad_keys = ["grad_ctx", "grad_visual_prompts", "adamw/grad_ctx2"] + \
        [k for k in out if k.startswith(("grad/", "tent/grad/", "sam/perturbed_grad/"))]
    for k in grad_keys:
        assert torch.isfinite(out[k]).all(), f"{name}: {k} not finite"
        assert out[k].abs().max() > 0, f"{name}: {k} all zero"
    for k, x in out.items():
        assert torch.isfinite(x).all(), f"{name}: {k} not finite"

    checks.update(float64_checks(prob, ctx0, vp0, idx, ln_names, out))

    out = {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}
    meta = {
        "model": name,
        "model_folder": f"clip-models/{name}",
        "model_sha256": {fn: sha256_file(os.path.join(folder, fn))
                         for fn in ("model.safetensors", "reference.safetensors")},
        "views_seed": seed + 7000 + index,
        "V": V,
        "image_size": size,
        "keep_fraction": KEEP_FRACTION,
        "kept": keep,
        "selected": [int(i) for i in idx],
        "selected_order": "argsort of per-view entropy, ascending (lowest entropy first); the loss does not "
                          "depend on the order",
        "entropy": [float(x) for x in entropy],
        "class_names": ref_meta["class_names"],
        "template": ref_meta["template"],
        "prompt_ids": prompt_ids,
        "prompt_padding": f"each row padded with <|endoftext|> ({mcf.EOS_ID}) to the text context {context}",
        "n_ctx": ctx0.shape[0],
        "n_visual_prompts": vp0.shape[0],
        "logit_scale_exp": float(model.logit_scale.exp()),
        "layer_norm_params": ln_names,
    }
    return out, meta, checks


def float64_checks(prob, ctx0, vp0, idx, ln_names, out):
    """Autograd in float64 against central differences, and float32 against float64 gradients.

    The float64 copy uses SDPA attention, since HF's eager attention computes its softmax in float32 for
    any input dtype (harmless in the float32 fixtures, but it would cap the check at float32 precision).
    The default dtype is float64 meanwhile: HF's causal-mask helper fills a default-dtype tensor with
    finfo(float64).min, which overflows float32."""
    import torch
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _float64_checks(prob, ctx0, vp0, idx, ln_names, out)
    finally:
        torch.set_default_dtype(previous)


def _float64_checks(prob, ctx0, vp0, idx, ln_names, out):
    import torch
    model64 = copy.deepcopy(prob.model).double()
    # HF's eager attention takes the softmax in float32 whatever the input dtype; SDPA stays in float64.
    model64.set_attn_implementation("sdpa")
    attn = [m.config._attn_implementation for m in model64.modules() if type(m).__name__ == "CLIPAttention"]
    assert attn and set(attn) == {"sdpa"}, attn
    for p in model64.parameters():
        p.requires_grad_(False)
    prob64 = Problem(prob.mcf, model64, prob.views.double(), prob.pids)
    ln64 = [p for _, p in vision_layer_norm_params(model64)]
    for p in ln64:
        p.requires_grad_(True)
    ctx = ctx0.double().requires_grad_(True)
    vp = vp0.double().requires_grad_(True)
    loss = tpt_loss(prob64.logits(ctx, vp), idx)
    g_tpt = torch.autograd.grad(loss, [ctx, vp] + ln64)
    t_loss = tent_loss(prob64.logits(ctx0.double(), vp0.double()))
    g_tent = torch.autograd.grad(t_loss, ln64)

    checks = {}
    # float32 vs float64, relative to the largest entry of each tensor
    pairs = [("grad_ctx", g_tpt[0]), ("grad_visual_prompts", g_tpt[1])] + \
        [(f"grad/{n}", g) for n, g in zip(ln_names, g_tpt[2:])] + \
        [(f"tent/grad/{n}", g) for n, g in zip(ln_names, g_tent)]
    rel = {k: float((out[k].double() - g64).abs().max() / g64.abs().max()) for k, g64 in pairs}
    checks["float32_vs_float64_grad_max_rel_diff"] = {
        "tpt_max": max(v for k, v in rel.items() if not k.startswith("tent/")),
        "tent_max": max(v for k, v in rel.items() if k.startswith("tent/")),
        "loss_abs_diff": float((out["loss"].double() - loss.detach()).abs().max()),
        "tent_loss_abs_diff": float((out["tent/loss"].double() - t_loss.detach()).abs().max()),
    }
    assert checks["float32_vs_float64_grad_max_rel_diff"]["tpt_max"] < 1e-3, rel
    assert checks["float32_vs_float64_grad_max_rel_diff"]["tent_max"] < 1e-3, rel

    # central differences on the largest-|g| entry of a few tensors, TPT loss with the selection fixed
    h = 1e-5
    fd = {}
    targets = [("ctx", ctx, g_tpt[0]), ("visual_prompts", vp, g_tpt[1]),
               (ln_names[0], ln64[0], g_tpt[2]), (ln_names[-1], ln64[-1], g_tpt[-1])]
    with torch.no_grad():
        for label, t, g in targets:
            flat = g.reshape(-1).abs().argmax()
            pos = tuple(int(i) for i in torch.unravel_index(flat, g.shape))
            base = float(t[pos])
            vals = []
            for sign in (1, -1):
                t[pos] = base + sign * h
                vals.append(float(tpt_loss(prob64.logits(ctx, vp), idx)))
            t[pos] = base
            numeric = (vals[0] - vals[1]) / (2 * h)
            analytic = float(g[pos])
            err = abs(numeric - analytic) / max(abs(analytic), 1e-12)
            assert err < 1e-6, (label, pos, numeric, analytic)
            fd[label] = {"index": list(pos), "autograd": analytic, "central_difference": numeric, "rel_err": err}
    checks["float64_finite_difference"] = fd
    return checks


# ----------------------------------------------------------------------------------------------

def stats(x):
    import torch
    x = x.double()
    return {"shape": list(x.shape), "max_abs": float(x.abs().max()), "rms": float(x.pow(2).mean().sqrt())}


def versions():
    import safetensors
    import torch
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "safetensors": safetensors.__version__, "python": sys.version.split()[0]}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fixtures = os.path.join(root, "Tests/TTADModelTests/Fixtures")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default=os.path.join(fixtures, "clip-models"))
    ap.add_argument("--out-dir", default=os.path.join(fixtures, "clip-grads"))
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

    report = {}
    for index, name in enumerate(MODEL_NAMES):
        out, meta, checks = make_one(mcf, name, args.models_dir, args.seed, index)
        obj = {
            **meta,
            "hyperparameters": {
                "tpt_selection": {"keep_fraction": KEEP_FRACTION, "kept": meta["kept"]},
                "adamw": {**ADAMW, "betas": list(ADAMW["betas"]), "params": "ctx only", "steps": 2,
                          "amsgrad": False, "maximize": False},
                "sam": {"rho": SAM_RHO, "eps": SAM_EPS, "adaptive": False,
                        "norm": "L2 over all vision LayerNorm params jointly",
                        "base_optimizer": "SGD", **SGD, "dampening": 0, "weight_decay": 0, "nesterov": False,
                        "params": "vision LayerNorm weights and biases", "loss": "tent", "steps": 1},
            },
            "losses": {
                "per_view_entropy": "entropy_v = -sum_c softmax(logits_v)_c * log_softmax(logits_v)_c",
                "tpt": "keep the int(V * 0.5) views of lowest entropy_v; l = logits[kept] - logsumexp_c per row; "
                       "a_c = logsumexp over kept rows of l_c - log(kept) (log of the mean probability), clamped "
                       "below at float32 min; loss = -sum_c a_c * exp(a_c) (entropy of the mean prediction)",
                "tent": "mean over all V views of entropy_v",
                "logits": "exp(logit_scale) * normalize(prompted image features of views with visual_prompts) "
                          "@ normalize(prompted text features of the class prompts with ctx).T",
            },
            "optimizer_formulas": {
                "adamw": "step t: p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; "
                         "p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)",
                "sam": "g = grad(tent, w); e = rho * g / (||g||_2 + eps); g' = grad(tent, w + e); "
                       "SGD step from w with g' (momentum buffer starts as g', so w - lr * g')",
                "adamw_step2_selection": "the step-1 kept views are reused (TPT computes the selection once); "
                                         "checked: re-selecting at ctx_after1 keeps the same views",
            },
            "tensors": {k: stats(v) for k, v in out.items()},
            "checks": checks,
            "versions": versions(),
        }
        st_path = os.path.join(args.out_dir, f"{name}.safetensors")
        save_file(out, st_path, metadata={"generator": "tools/make_clip_grad_fixtures.py"})  # one key only
        json_path = os.path.join(args.out_dir, f"{name}.json")
        with open(json_path, "w", encoding="utf-8") as f:
            f.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
        for path in (st_path, json_path):
            os.chmod(path, 0o644)  # safetensors writes 0600
        report[name] = {os.path.basename(p): {"bytes": os.path.getsize(p), "sha256": sha256_file(p)[:16]}
                        for p in (st_path, json_path)}
        report[name]["checks"] = checks
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
