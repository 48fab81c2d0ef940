#!/usr/bin/env python3
"""Which operand order makes the system OpenBLAS fastest for CLIP's skinny products?

    python3 tools/gemm_orientation.py        # needs numpy (python3-numpy) and libopenblas0

A linear layer on `m` token rows is y = x·Wᵀ (x: m×k, W: n×k). For small m the same numbers come
out of (W·xᵀ)ᵀ, with the many-row weight matrix as BLAS's first operand. This script times both
through ctypes on the system libopenblas.so.0 (the library the daemon links), one thread, with a
distinct weight matrix per layer (12 layers, as in ViT-B) so weights stream from memory as they do
in the model, at ViT-B's four block shapes. Linear.transposedRowLimit is chosen from its output.
Numbers vary run to run on a shared VM; compare the two columns of one line.
"""
import ctypes
import time

import numpy as np

lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_set_num_threads(1)
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
LAYERS = 12
SHAPES = [(2304, 768), (768, 768), (3072, 768), (768, 3072)]   # (n = out, k = in): qkv, out, fc1, fc2


def sgemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc):
    p = lambda x: x.ctypes.data_as(ctypes.c_void_p)
    lib.cblas_sgemm(ROW_MAJOR, ta, tb, m, n, k, ctypes.c_float(1.0), p(a), lda, p(b), ldb,
                    ctypes.c_float(0.0), p(c), ldc)


def main():
    rng = np.random.default_rng(0)
    weights = [[rng.standard_normal((n, k), dtype=np.float32) for (n, k) in SHAPES] for _ in range(LAYERS)]
    print("GFLOP/s, x·Wᵀ / (W·xᵀ)ᵀ, per block product over 12 distinct layers")
    for m in [10, 50, 100, 197, 400]:
        x = rng.standard_normal((m, 3072), dtype=np.float32)
        out = np.zeros(3072 * m, np.float32)
        cells = []
        for i, (n, k) in enumerate(SHAPES):
            rates = []
            for transposed in (False, True):
                def run():
                    for layer in range(LAYERS):
                        w = weights[layer][i]
                        if transposed:
                            sgemm(NO_TRANS, TRANS, n, m, k, w, k, x, k, out, m)
                        else:
                            sgemm(NO_TRANS, TRANS, m, n, k, x, k, w, k, out, n)
                run()
                reps = max(1, 1000 // m)
                t0 = time.perf_counter()
                for _ in range(reps):
                    run()
                rates.append(2 * m * n * k * LAYERS / ((time.perf_counter() - t0) / reps) / 1e9)
            cells.append(f"{n}x{k}: {rates[0]:5.1f} / {rates[1]:5.1f}")
        print(f"m={m:4d}  " + "   ".join(cells))


if __name__ == "__main__":
    main()
