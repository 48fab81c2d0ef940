#!/usr/bin/env python3
"""Write class-embedding files in the formats ttad's embedding mode loads (numpy only).

The daemon (TTADModel.ClassEmbeddings.load) accepts:
  * <out>.safetensors holding a [C, D] tensor "class_embeddings" (F32/F16/BF16) with the class
    names as a JSON array string under the metadata key "class_names";
  * <out>.npy holding a C-order [C, D] float array, plus a names file (one name per line).

Rows are L2-normalised before writing (the loader normalises again; writing unit rows keeps the
file meaningful on its own). Output is deterministic for a given seed and input.

Subcommands
  random    seeded Gaussian vectors (placeholder embeddings, tests, the bundled default)
  from-npy  convert an existing [C, D] .npy (e.g. exported CLIP text embeddings)
  fixture   the tiny committed test fixture for Tests/TTADModelTests/Fixtures: the same matrix as
            F16 safetensors and as .npy + names.txt, and reference.json with query embeddings
            and the expected outputs computed in float64

Examples
  tools/make_class_embeddings.py random --classes 1000 --dim 512 --seed 0 --out default.safetensors
  tools/make_class_embeddings.py from-npy --input text_emb.npy --names names.txt --out cls.safetensors --dtype f16
  tools/make_class_embeddings.py fixture --out-dir Tests/TTADModelTests/Fixtures
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

TENSOR_NAME = "class_embeddings"
NAMES_KEY = "class_names"

# CIFAR-10's label set: ten short, familiar names for the 10-class fixture.
FIXTURE_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck"]


def normalise_rows(m):
    norms = np.linalg.norm(m.astype(np.float64), axis=1, keepdims=True)
    if np.any(norms == 0):
        sys.exit("error: a class embedding row is all zeros")
    return m.astype(np.float64) / norms


def to_storage(m, dtype):
    """Round a float64 matrix to the on-disk dtype; returns (raw little-endian bytes, F32 view)."""
    if dtype == "f32":
        a = m.astype("<f4")
        return a.tobytes(), a.astype(np.float32)
    if dtype == "f16":
        a = m.astype("<f2")
        return a.tobytes(), a.astype(np.float32)
    if dtype == "bf16":
        # Round-to-nearest-even on the upper 16 bits of the float32 pattern.
        bits = m.astype("<f4").view("<u4").astype(np.uint64)
        bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
        return bits.tobytes(), (bits.astype(np.uint32) << 16).view(np.float32)
    raise ValueError(dtype)


def write_safetensors(path, matrix, names, dtype, extra_metadata=None):
    raw, stored = to_storage(matrix, dtype)
    metadata = {NAMES_KEY: json.dumps(names, ensure_ascii=False)}
    metadata.update(extra_metadata or {})
    header = {
        "__metadata__": metadata,
        TENSOR_NAME: {"dtype": dtype.upper(), "shape": list(matrix.shape),
                      "data_offsets": [0, len(raw)]},
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(raw)
    return stored


def write_npy(path, matrix, dtype):
    if dtype == "bf16":
        sys.exit("error: .npy has no bfloat16; use f32 or f16")
    arr = np.ascontiguousarray(matrix.astype("<f4" if dtype == "f32" else "<f2"))
    np.save(path, arr, allow_pickle=False)
    return arr.astype(np.float32)


def write_names(path, names):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")


def read_names(path):
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f.read().split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if any(not line for line in lines):
        sys.exit(f"error: {path}: blank class name")
    if len(set(lines)) != len(lines):
        sys.exit(f"error: {path}: duplicate class names")
    return lines


def write_output(out, matrix, names, dtype, names_out, metadata):
    """Write `matrix` ([C, D], float64, unit rows) in the format implied by `out`'s extension."""
    if out.endswith(".safetensors"):
        stored = write_safetensors(out, matrix, names, dtype, metadata)
        if names_out:
            write_names(names_out, names)
    elif out.endswith(".npy"):
        stored = write_npy(out, matrix, dtype)
        write_names(names_out or os.path.splitext(out)[0] + ".names.txt", names)
    else:
        sys.exit("error: --out must end in .safetensors or .npy")
    return stored


def reference(stored, queries, logit_scale, top_k):
    """Expected classifier outputs in float64 for F32 `queries` against the stored matrix."""
    e = stored.astype(np.float64)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    out = []
    for q in queries.astype(np.float64):
        n = np.linalg.norm(q)
        u = q / n if n > 0 else q  # zero query: cosines 0, uniform distribution
        cos = e @ u
        z = logit_scale * cos
        p = np.exp(z - z.max())
        p /= p.sum()
        nz = p[p > 0]
        order = np.argsort(-z, kind="stable")  # ties: lower index first
        out.append({
            "probabilities": p.tolist(),
            "entropy": float(-(nz * np.log(nz)).sum()),
            "max_cosine": float(cos.max()),
            "predicted": int(order[0]),
            "top_indices": order[:top_k].tolist(),
        })
    return out


def cmd_random(args):
    rng = np.random.default_rng(args.seed)
    names = read_names(args.names) if args.names else [f"class_{i:04d}" for i in range(args.classes)]
    matrix = normalise_rows(rng.standard_normal((len(names), args.dim)))
    write_output(args.out, matrix, names, args.dtype, args.names_out,
                 {"generator": "make_class_embeddings.py random", "seed": str(args.seed)})


def cmd_from_npy(args):
    m = np.load(args.input, allow_pickle=False)
    if m.ndim != 2:
        sys.exit(f"error: {args.input}: expected a 2-D [classes, dim] array, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        sys.exit(f"error: {args.input}: non-finite values")
    names = read_names(args.names)
    if len(names) != m.shape[0]:
        sys.exit(f"error: {len(names)} names for {m.shape[0]} rows")
    write_output(args.out, normalise_rows(m), names, args.dtype, args.names_out,
                 {"generator": "make_class_embeddings.py from-npy"})


def cmd_fixture(args):
    d = args.out_dir
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    matrix = normalise_rows(rng.standard_normal((len(FIXTURE_NAMES), args.dim)))
    stored = write_safetensors(os.path.join(d, "class_embeddings_f16.safetensors"), matrix,
                               FIXTURE_NAMES, "f16", {"generator": "make_class_embeddings.py fixture",
                                                      "seed": str(args.seed)})
    # The .npy holds the *F16-rounded* values as F32, so both files describe the same matrix
    # while exercising different decode paths.
    np.save(os.path.join(d, "class_embeddings.npy"), stored.astype("<f4"), allow_pickle=False)
    write_names(os.path.join(d, "names.txt"), FIXTURE_NAMES)

    queries = rng.standard_normal((args.queries, args.dim)).astype(np.float32)
    extra = [
        np.zeros(args.dim, np.float32),            # zero norm → uniform, all-tie top-k
        (3.0 * stored[4]).astype(np.float32),      # a class embedding, unnormalised → cos 1
        (0.5 * stored[1] + 0.5 * stored[7]).astype(np.float32),  # between two classes
    ]
    queries = np.vstack([queries] + [q[None, :] for q in extra])
    ref = {
        "logit_scale": args.logit_scale,
        "top_k": args.top_k,
        "classes": len(FIXTURE_NAMES),
        "dim": args.dim,
        # Python floats of float32 values: exact in JSON, parse back to the same float32.
        "queries": [[float(x) for x in q] for q in queries],
        "expected": reference(stored, queries, args.logit_scale, args.top_k),
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def output_options(sp):
        sp.add_argument("--out", required=True, help=".safetensors or .npy path")
        sp.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
        sp.add_argument("--names-out", help="also write the names file here (default for .npy: <out>.names.txt)")

    r = sub.add_parser("random", help="seeded random unit vectors")
    r.add_argument("--classes", type=int, default=10)
    r.add_argument("--dim", type=int, default=512)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--names", help="names file (overrides --classes)")
    output_options(r)
    r.set_defaults(func=cmd_random)

    n = sub.add_parser("from-npy", help="convert an existing [C, D] .npy")
    n.add_argument("--input", required=True)
    n.add_argument("--names", required=True)
    output_options(n)
    n.set_defaults(func=cmd_from_npy)

    f = sub.add_parser("fixture", help="the committed Swift test fixture")
    f.add_argument("--out-dir", required=True)
    f.add_argument("--dim", type=int, default=16)
    f.add_argument("--seed", type=int, default=20240611)
    f.add_argument("--queries", type=int, default=5, help="random queries (3 edge cases are added)")
    f.add_argument("--logit-scale", type=float, default=100.0)
    f.add_argument("--top-k", type=int, default=3)
    f.set_defaults(func=cmd_fixture)

    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
