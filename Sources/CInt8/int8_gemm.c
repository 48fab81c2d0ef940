// Int8 GEMM kernels for ttad's reduced-precision image tower. See include/ttad_int8.h for the
// contract. Every path computes the same exact int32 sums; they differ only in speed.
#include "ttad_int8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define TTAD_X86 1
#include <immintrin.h>
#endif

#define ALWAYS_INLINE __attribute__((always_inline)) inline

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

int ttad_i8_row_stride(int k) { return round_up(k, 4); }

int64_t ttad_i8_packed_size(int n, int k) { return (int64_t)round_up(n, 16) * round_up(k, 4); }

int ttad_i8_path_available(int path) {
    switch (path) {
    case TTAD_I8_AUTO:
    case TTAD_I8_PORTABLE:
        return 1;
#ifdef TTAD_X86
    case TTAD_I8_AVX2:
        return __builtin_cpu_supports("avx2");
    case TTAD_I8_AVX512VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    default:
        return 0;
    }
}

int ttad_i8_best_path(void) {
    static int best = 0;
    int b = __atomic_load_n(&best, __ATOMIC_RELAXED);
    if (b == 0) {
        b = TTAD_I8_PORTABLE;
        if (ttad_i8_path_available(TTAD_I8_AVX2)) b = TTAD_I8_AVX2;
        if (ttad_i8_path_available(TTAD_I8_AVX512VNNI)) b = TTAD_I8_AVX512VNNI;
        __atomic_store_n(&best, b, __ATOMIC_RELAXED);   // idempotent: a race stores the same value
    }
    return b;
}

static int forced_path = TTAD_I8_AUTO;

void ttad_i8_set_auto_path(int path) {
    __atomic_store_n(&forced_path, ttad_i8_path_available(path) ? path : TTAD_I8_AUTO, __ATOMIC_RELAXED);
}

int ttad_i8_auto_path(void) {
    const int f = __atomic_load_n(&forced_path, __ATOMIC_RELAXED);
    return f != TTAD_I8_AUTO ? f : ttad_i8_best_path();
}

static int resolve(int path) {
    if (path == TTAD_I8_AUTO || !ttad_i8_path_available(path)) return ttad_i8_auto_path();
    return path;
}

static int8_t quantize_one(float v, float inv) {
    float r = rintf(v * inv);
    if (r > 127.f) r = 127.f;
    if (r < -127.f) r = -127.f;
    return (int8_t)r;
}

void ttad_i8_pack_weights(const float *w, int n, int k, int8_t *packed, float *scales, int32_t *colsum) {
    const int k4 = round_up(k, 4) / 4, nblocks = round_up(n, 16) / 16;
    memset(packed, 0, (size_t)ttad_i8_packed_size(n, k));
    for (int o = 0; o < n; o++) {
        const float *row = w + (size_t)o * k;
        float m = 0;
        for (int i = 0; i < k; i++) m = fmaxf(m, fabsf(row[i]));
        const float scale = m > 0 ? m / 127.f : 1.f, inv = 1.f / scale;
        scales[o] = scale;
        int8_t *block = packed + (size_t)(o / 16) * k4 * 64;
        const int col = o % 16;
        int32_t sum = 0;
        for (int i = 0; i < k; i++) {
            const int8_t q = quantize_one(row[i], inv);
            block[(size_t)(i / 4) * 64 + col * 4 + i % 4] = q;
            sum += q;
        }
        colsum[o] = sum;
    }
    (void)nblocks;
}

#ifdef TTAD_X86
// The same quantization 8 floats at a time: vcvtps2dq rounds to nearest even like rintf in the
// default rounding mode, and the maximum is exact, so the bytes are identical to the plain loop.
__attribute__((target("avx2"))) static void quantize_rows_avx2(const float *x, int rows, int k, int ldx, int8_t *q,
                                                               float *scales) {
    const int stride = ttad_i8_row_stride(k);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * ldx;
        int8_t *out = q + (size_t)r * stride;
        __m256 mv = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= k; i += 8) mv = _mm256_max_ps(mv, _mm256_and_ps(_mm256_loadu_ps(row + i), absmask));
        float lanes[8];
        _mm256_storeu_ps(lanes, mv);
        float m = 0;
        for (int l = 0; l < 8; l++) m = fmaxf(m, lanes[l]);
        for (; i < k; i++) m = fmaxf(m, fabsf(row[i]));
        const float scale = m > 0 ? m / 127.f : 1.f, inv = 1.f / scale;
        scales[r] = scale;
        const __m256 vinv = _mm256_set1_ps(inv);
        const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
        i = 0;
        for (; i + 8 <= k; i += 8) {
            __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(row + i), vinv));
            v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
            int32_t tmp[8];
            _mm256_storeu_si256((__m256i *)tmp, v);
            for (int l = 0; l < 8; l++) out[i + l] = (int8_t)tmp[l];
        }
        for (; i < k; i++) out[i] = quantize_one(row[i], inv);
        for (i = k; i < stride; i++) out[i] = 0;
    }
}
#endif

void ttad_i8_quantize_rows(const float *x, int rows, int k, int ldx, int8_t *q, float *scales) {
#ifdef TTAD_X86
    if (ttad_i8_path_available(TTAD_I8_AVX2)) {
        quantize_rows_avx2(x, rows, k, ldx, q, scales);
        return;
    }
#endif
    const int stride = ttad_i8_row_stride(k);
    for (int r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * ldx;
        int8_t *out = q + (size_t)r * stride;
        float m = 0;
        for (int i = 0; i < k; i++) m = fmaxf(m, fabsf(row[i]));
        const float scale = m > 0 ? m / 127.f : 1.f, inv = 1.f / scale;
        scales[r] = scale;
        for (int i = 0; i < k; i++) out[i] = quantize_one(row[i], inv);
        for (int i = k; i < stride; i++) out[i] = 0;
    }
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels. Each computes a tile of `mr` rows by `nb` blocks of 16 outputs into
// tile[i * 64 + j * 16 + c] (int32, before any offset correction), reading activation rows at
// a + i * lda and weight block j at w + j * bstride, over k4 groups of 4 inputs.

static void kernel_portable(const int8_t *a, int lda, int mr, const int8_t *w, int64_t bstride, int nb, int k4,
                            int32_t *tile) {
    for (int i = 0; i < mr; i++) {
        for (int j = 0; j < nb; j++) {
            int32_t acc[16] = {0};
            const int8_t *wb = w + j * bstride;
            const int8_t *ar = a + (size_t)i * lda;
            for (int g = 0; g < k4; g++) {
                const int8_t *wg = wb + (size_t)g * 64;
                const int32_t a0 = ar[4 * g], a1 = ar[4 * g + 1], a2 = ar[4 * g + 2], a3 = ar[4 * g + 3];
                for (int c = 0; c < 16; c++)
                    acc[c] += a0 * wg[4 * c] + a1 * wg[4 * c + 1] + a2 * wg[4 * c + 2] + a3 * wg[4 * c + 3];
            }
            memcpy(tile + i * 64 + j * 16, acc, sizeof acc);
        }
    }
}

#ifdef TTAD_X86
static ALWAYS_INLINE int32_t load4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes and adds groups of four into int32
// without saturation. Activations arrive unsigned (a + 128: the driver flips their sign bits once
// per row chunk); the epilogue subtracts 128 * colsum[n].
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

VNNI_TARGET static ALWAYS_INLINE void kernel_vnni_fixed(const int8_t *a, int lda, const int8_t *w, int64_t bstride,
                                                        int k4, int32_t *tile, const int MR, const int NB) {
    __m512i acc[6][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_si512();
    for (int g = 0; g < k4; g++) {
        __m512i wv[4];
        for (int j = 0; j < NB; j++) wv[j] = _mm512_loadu_si512((const void *)(w + j * bstride + (int64_t)g * 64));
        for (int i = 0; i < MR; i++) {
            const __m512i av = _mm512_set1_epi32(load4(a + (size_t)i * lda + 4 * g));
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, wv[j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NB; j++) _mm512_storeu_si512((void *)(tile + i * 64 + j * 16), acc[i][j]);
}

#define VNNI_MR 6
#define VNNI_NB 4
#define VNNI_CASE(M, N)                                                                                  \
    case (M) * 8 + (N):                                                                                  \
        kernel_vnni_fixed(a, lda, w, bstride, k4, tile, M, N);                                           \
        break;
#define VNNI_ROW(M) VNNI_CASE(M, 1) VNNI_CASE(M, 2) VNNI_CASE(M, 3) VNNI_CASE(M, 4)

VNNI_TARGET static void kernel_vnni(const int8_t *a, int lda, int mr, const int8_t *w, int64_t bstride, int nb, int k4,
                                    int32_t *tile) {
    switch (mr * 8 + nb) {
        VNNI_ROW(1) VNNI_ROW(2) VNNI_ROW(3) VNNI_ROW(4) VNNI_ROW(5) VNNI_ROW(6)
    default:
        abort();
    }
}

// AVX2: vpmaddubsw multiplies unsigned by signed bytes and adds pairs into int16 with
// saturation. Feeding it |a| (<= 127) and w with a's sign (|w| <= 127) keeps every pair sum
// within 2 * 127 * 127 = 32,258 < 32,767, so it never saturates; vpmaddwd by ones then adds the
// pairs into int32 exactly.
#define AVX2_TARGET __attribute__((target("avx2")))

AVX2_TARGET static ALWAYS_INLINE void kernel_avx2_fixed(const int8_t *a, int lda, const int8_t *w, int64_t bstride,
                                                        int k4, int32_t *tile, const int MR, const int NB) {
    __m256i acc[4][4];   // [row][block * 2 + half]
    for (int i = 0; i < MR; i++)
        for (int h = 0; h < 2 * NB; h++) acc[i][h] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int g = 0; g < k4; g++) {
        __m256i wv[4];
        for (int j = 0; j < NB; j++) {
            wv[2 * j] = _mm256_loadu_si256((const __m256i *)(w + j * bstride + (int64_t)g * 64));
            wv[2 * j + 1] = _mm256_loadu_si256((const __m256i *)(w + j * bstride + (int64_t)g * 64 + 32));
        }
        for (int i = 0; i < MR; i++) {
            const __m256i av = _mm256_set1_epi32(load4(a + (size_t)i * lda + 4 * g));
            const __m256i aabs = _mm256_abs_epi8(av);
            for (int h = 0; h < 2 * NB; h++) {
                const __m256i ws = _mm256_sign_epi8(wv[h], av);
                const __m256i p16 = _mm256_maddubs_epi16(aabs, ws);
                acc[i][h] = _mm256_add_epi32(acc[i][h], _mm256_madd_epi16(p16, ones));
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int h = 0; h < 2 * NB; h++) _mm256_storeu_si256((__m256i *)(tile + i * 64 + h * 8), acc[i][h]);
}

#define AVX2_MR 4
#define AVX2_NB 1
#define AVX2_CASE(M)                                                                                     \
    case M:                                                                                              \
        kernel_avx2_fixed(a, lda, w, bstride, k4, tile, M, 1);                                           \
        break;

AVX2_TARGET static void kernel_avx2(const int8_t *a, int lda, int mr, const int8_t *w, int64_t bstride, int nb, int k4,
                                    int32_t *tile) {
    (void)nb;   // always 1
    switch (mr) {
        AVX2_CASE(1) AVX2_CASE(2) AVX2_CASE(3) AVX2_CASE(4)
    default:
        abort();
    }
}
#endif

// ---------------------------------------------------------------------------------------------
// Driver: rows in chunks that stay in cache with one weight panel, panels of `tile_blocks`
// blocks, micro-tiles of `mr` rows; each finished tile goes through the epilogue.

typedef void (*kernel_fn)(const int8_t *, int, int, const int8_t *, int64_t, int, int, int32_t *);

typedef struct {
    int32_t *c;   // int32 output (NULL for float)
    int ldc;
    float *y;     // float output
    int ldy;
    const float *sa, *sw, *bias;
    int accumulate;
} epilogue_t;

static void finish_tile(const epilogue_t *e, const int32_t *tile, int row0, int mr, int col0, int cols,
                        const int32_t *colsum, int offset) {
    for (int i = 0; i < mr; i++) {
        const int32_t *t = tile + i * 64;
        if (e->c) {
            int32_t *out = e->c + (size_t)(row0 + i) * e->ldc + col0;
            for (int c = 0; c < cols; c++) out[c] = t[c] - (offset ? 128 * colsum[col0 + c] : 0);
        } else {
            float *out = e->y + (size_t)(row0 + i) * e->ldy + col0;
            const float s = e->sa[row0 + i];
            const float *sw = e->sw + col0;
            const float *b = e->bias ? e->bias + col0 : NULL;
            const int32_t *cs = colsum + col0;
            float v[64];
            for (int c = 0; c < cols; c++) v[c] = (float)(t[c] - (offset ? 128 * cs[c] : 0)) * (s * sw[c]);
            if (b)
                for (int c = 0; c < cols; c++) v[c] += b[c];
            if (e->accumulate)
                for (int c = 0; c < cols; c++) out[c] += v[c];
            else
                for (int c = 0; c < cols; c++) out[c] = v[c];
        }
    }
}

#ifdef TTAD_X86
// The float epilogue 16 (AVX-512) or 8 (AVX2) columns at a time, with exactly the scalar
// loop's operations in its order (no fused multiply-add), so every path gives the same floats.
VNNI_TARGET static void finish_tile_avx512(const epilogue_t *e, const int32_t *tile, int row0, int mr, int col0,
                                           int cols, const int32_t *colsum, int offset) {
    for (int i = 0; i < mr; i++) {
        float *out = e->y + (size_t)(row0 + i) * e->ldy + col0;
        const __m512 s = _mm512_set1_ps(e->sa[row0 + i]);
        for (int c = 0; c < cols; c += 16) {
            const int left = cols - c;
            const __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            __m512i t = _mm512_maskz_loadu_epi32(m, tile + i * 64 + c);
            if (offset) t = _mm512_sub_epi32(t, _mm512_slli_epi32(_mm512_maskz_loadu_epi32(m, colsum + col0 + c), 7));
            __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, e->sw + col0 + c)));
            if (e->bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, e->bias + col0 + c));
            if (e->accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, out + c), v);
            _mm512_mask_storeu_ps(out + c, m, v);
        }
    }
}

AVX2_TARGET static void finish_tile_avx2(const epilogue_t *e, const int32_t *tile, int row0, int mr, int col0,
                                         int cols, const int32_t *colsum, int offset) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int i = 0; i < mr; i++) {
        float *out = e->y + (size_t)(row0 + i) * e->ldy + col0;
        const __m256 s = _mm256_set1_ps(e->sa[row0 + i]);
        for (int c = 0; c < cols; c += 8) {
            const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - c), lane);
            __m256i t = _mm256_maskload_epi32(tile + i * 64 + c, m);
            if (offset) t = _mm256_sub_epi32(t, _mm256_slli_epi32(_mm256_maskload_epi32(colsum + col0 + c, m), 7));
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(t), _mm256_mul_ps(s, _mm256_maskload_ps(e->sw + col0 + c, m)));
            if (e->bias) v = _mm256_add_ps(v, _mm256_maskload_ps(e->bias + col0 + c, m));
            if (e->accumulate) v = _mm256_add_ps(_mm256_maskload_ps(out + c, m), v);
            _mm256_maskstore_ps(out + c, m, v);
        }
    }
}
#endif

typedef void (*finish_fn)(const epilogue_t *, const int32_t *, int, int, int, int, const int32_t *, int);

static void gemm(int path, const int8_t *qa, int lda, int m, const int8_t *packed, const int32_t *colsum, int n, int k,
                 int block_begin, int block_end, const epilogue_t *e) {
    path = resolve(path);
    kernel_fn kernel = kernel_portable;
    finish_fn finish = finish_tile;
    int mr_max = 4, nb_max = 1, offset = 0;
#ifdef TTAD_X86
    if (!e->c) finish = path == TTAD_I8_AVX512VNNI ? finish_tile_avx512 : path == TTAD_I8_AVX2 ? finish_tile_avx2 : finish_tile;
    if (path == TTAD_I8_AVX512VNNI) {
        kernel = kernel_vnni;
        mr_max = VNNI_MR;
        nb_max = VNNI_NB;
        offset = 1;
    } else if (path == TTAD_I8_AVX2) {
        kernel = kernel_avx2;
        mr_max = AVX2_MR;
        nb_max = AVX2_NB;
    }
#endif
    const int k4 = round_up(k, 4) / 4;
    const int64_t bstride = (int64_t)k4 * 64;
    const int nblocks = round_up(n, 16) / 16;
    if (block_end > nblocks) block_end = nblocks;
    if (block_begin < 0) block_begin = 0;
    // Rows per chunk: keep the chunk's activations (chunk * k bytes) near 256 KiB.
    int chunk = (256 * 1024) / (k4 * 4);
    chunk = chunk / mr_max * mr_max;
    if (chunk < mr_max) chunk = mr_max;
    int32_t tile[6 * 64] __attribute__((aligned(64)));
    // The VNNI kernel reads a + 128: one flipped copy of each row chunk, made here.
    uint8_t *flipped = NULL;
    if (offset) {
        // aligned_alloc wants a multiple of the alignment (lda is a multiple of 4 only).
        flipped = aligned_alloc(64, ((size_t)(chunk < m ? chunk : m) * lda + 63) / 64 * 64);
        if (!flipped) abort();
    }
    for (int r0 = 0; r0 < m; r0 += chunk) {
        const int r1 = r0 + chunk < m ? r0 + chunk : m;
        const int8_t *rows = qa + (size_t)r0 * lda;
        if (flipped) {
            const size_t bytes = (size_t)(r1 - r0) * lda;
            for (size_t i = 0; i < bytes; i++) flipped[i] = (uint8_t)qa[(size_t)r0 * lda + i] ^ 0x80u;
            rows = (const int8_t *)flipped;
        }
        for (int b = block_begin; b < block_end; b += nb_max) {
            const int nb = b + nb_max <= block_end ? nb_max : block_end - b;
            const int col0 = b * 16;
            int cols = nb * 16;
            if (col0 + cols > n) cols = n - col0;
            for (int r = r0; r < r1; r += mr_max) {
                const int mr = r + mr_max <= r1 ? mr_max : r1 - r;
                kernel(rows + (size_t)(r - r0) * lda, lda, mr, packed + b * bstride, bstride, nb, k4, tile);
                finish(e, tile, r, mr, col0, cols, colsum, offset);
            }
        }
    }
    free(flipped);
}

void ttad_i8_gemm_s32(int path, const int8_t *qa, int lda, int m, const int8_t *packed, const int32_t *colsum, int n,
                      int k, int block_begin, int block_end, int32_t *c, int ldc) {
    epilogue_t e = {c, ldc, NULL, 0, NULL, NULL, NULL, 0};
    gemm(path, qa, lda, m, packed, colsum, n, k, block_begin, block_end, &e);
}

void ttad_i8_gemm_f32(int path, const int8_t *qa, int lda, const float *sa, int m, const int8_t *packed,
                      const float *sw, const int32_t *colsum, int n, int k, const float *bias, int block_begin,
                      int block_end, float *y, int ldy, int accumulate) {
    epilogue_t e = {NULL, 0, y, ldy, sa, sw, bias, accumulate};
    gemm(path, qa, lda, m, packed, colsum, n, k, block_begin, block_end, &e);
}
