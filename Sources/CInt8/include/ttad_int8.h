#ifndef TTAD_INT8_H
#define TTAD_INT8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Int8 GEMM for inference: y[m][n] = sa[m] * sw[n] * sum_k qa[m][k] * qw[n][k] (+ bias[n]).
///
/// Activations are symmetric int8 per row in [-127, 127] (row stride `lda` bytes, a multiple of 4,
/// bytes from k to the next multiple of 4 zero). Weights are symmetric int8 per output channel in
/// [-127, 127], packed by `ttad_i8_pack_weights` into blocks of 16 output channels:
/// [ceil(n/16)][ceil(k/4)][16][4] bytes, zero padded. Accumulation is exact in int32 on every
/// code path (|sum| <= 255 * 127 * k, < 2^31 for k < 66,000).

/// Code paths. `TTAD_I8_AUTO` picks the best the CPU supports at run time.
enum {
    TTAD_I8_AUTO = 0,
    TTAD_I8_PORTABLE = 1,   // plain C, any CPU
    TTAD_I8_AVX2 = 2,       // x86-64 AVX2: maddubs on |a| and sign(w, a) (no 16-bit saturation)
    TTAD_I8_AVX512VNNI = 3, // x86-64 AVX-512 VNNI: vpdpbusd on a + 128, minus 128 * sum(w)
};

/// Whether `path` can run on this CPU (PORTABLE always can; AUTO resolves first).
int ttad_i8_path_available(int path);
/// The best path this CPU supports.
int ttad_i8_best_path(void);
/// Makes AUTO resolve to `path` (benchmarks: e.g. the AVX2 kernels on an AVX-512 machine);
/// AUTO or a path this CPU lacks restores the best path. Process-global.
void ttad_i8_set_auto_path(int path);
/// The path AUTO resolves to now.
int ttad_i8_auto_path(void);

/// Bytes of the packed weight buffer for `n` outputs and `k` inputs.
int64_t ttad_i8_packed_size(int n, int k);
/// Row stride (bytes) of quantized activations for `k` inputs: k rounded up to 4.
int ttad_i8_row_stride(int k);

/// Quantizes `w` ([n][k] row-major float, PyTorch's Linear layout) per output channel:
/// scale[n] = max|w[n]| / 127 (1 when the row is zero), packed as described above;
/// colsum[n] = sum_k q[n][k] (used by the VNNI path's +128 offset correction).
void ttad_i8_pack_weights(const float *w, int n, int k, int8_t *packed, float *scales, int32_t *colsum);

/// Quantizes `rows` rows of `x` (row stride `ldx` floats) per row: scale = max|x| / 127
/// (1 when the row is zero), q = round-half-away(x / scale); writes `ttad_i8_row_stride(k)` bytes
/// per row into `q` (padding zero) and the scales into `scales`.
void ttad_i8_quantize_rows(const float *x, int rows, int k, int ldx, int8_t *q, float *scales);

/// Exact int32 product on `path` for output blocks [block_begin, block_end) (16 outputs each):
/// c[m][n] = sum_k qa[m][k] * qw[n][k] for n < min(n_total, 16 * block_end), row stride ldc.
void ttad_i8_gemm_s32(int path, const int8_t *qa, int lda, int m, const int8_t *packed, const int32_t *colsum,
                      int n, int k, int block_begin, int block_end, int32_t *c, int ldc);

/// The same product dequantized: y[m][n] (=|+=) sa[m] * sw[n] * c[m][n] + bias[n] (bias may be
/// NULL), for output blocks [block_begin, block_end); `accumulate` adds into y.
void ttad_i8_gemm_f32(int path, const int8_t *qa, int lda, const float *sa, int m, const int8_t *packed,
                      const float *sw, const int32_t *colsum, int n, int k, const float *bias,
                      int block_begin, int block_end, float *y, int ldy, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
