/* The engines' cached step compiled: one call per step instead of 40-150 NumPy calls.
 *
 * Optional. `python -m musicgen.engine.native --build` (run by `make venv`) compiles this file
 * into musicgen/engine/_native.so for the machine it runs on; where it is missing, stale (built
 * from another version of this file) or the CPU lacks what it was built for, the engines step
 * with NumPy as before (musicgen/engine/native.py decides, once per process).
 *
 * It computes what LSTMEngine.step and TransformerEngine.step compute, from the same folded
 * arrays (the LayerNorm gains folded into the next matrix, biases as a matrix's last row read
 * by a last input of `eps_col` after a normalized row and 1 after any other, queries pre-scaled,
 * GELU's input and output scaled, the LSTM's gates reordered i, f, o, g with the sigmoid rows
 * halved): see lstm.py, transformer.py and ops.py. What differs is only the order of float
 * additions and exp (a Cephes polynomial here, ~2 ulp), so logits agree to ~1e-6.
 *
 * The matrices are read in panels: W (in, out) as (ceil(out / 8), in, 8), zero-padded, so a
 * product streams each panel once, contiguously, and keeps up to 8 rows' x 8 outputs in
 * registers (`native.py`'s `panels` packs them; OpenBLAS packs its operands again on every call,
 * which at 8 streams cost it a third of the LSTM's step). State and caches stay NumPy arrays of
 * the engines' own layout, so NumPy's `run` (the seed) and this step share them.
 *
 * Every function only reads its model and writes the buffers it is given: two threads stepping
 * their own states may call it at once (ctypes releases the GIL during the call).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MG_AVX2 1
#endif

#ifndef MG_SOURCE_SHA
#define MG_SOURCE_SHA "unknown"
#endif

/* The sha256 of this file's text when built: native.py loads no library built from another. */
const char *mg_source(void) { return MG_SOURCE_SHA; }

/* 1 when this CPU has the instructions the library was compiled for (-march=native). */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("arch=x86-64"))) int mg_cpu_ok(void) {
    __builtin_cpu_init();
#ifdef __AVX2__
    if (!__builtin_cpu_supports("avx2")) return 0;
#endif
#ifdef __FMA__
    if (!__builtin_cpu_supports("fma")) return 0;
#endif
#ifdef __AVX512F__
    if (!__builtin_cpu_supports("avx512f")) return 0;
#endif
#ifdef __AVX512VL__
    if (!__builtin_cpu_supports("avx512vl")) return 0;
#endif
#ifdef __AVX512BW__
    if (!__builtin_cpu_supports("avx512bw")) return 0;
#endif
#ifdef __AVX512DQ__
    if (!__builtin_cpu_supports("avx512dq")) return 0;
#endif
#ifdef __BMI2__
    if (!__builtin_cpu_supports("bmi2")) return 0;
#endif
    return 1;
}
#else
int mg_cpu_ok(void) { return 1; }
#endif

#define PANEL 8
static inline int padded(int n) { return (n + PANEL - 1) / PANEL * PANEL; }

/* ------------------------------------------------------------------------------ products */
/* Activations are (features, B): feature j of stream b at [j * B + b], the layout of the
 * LSTM's state; one stream's features are then contiguous, and eight streams' values of one
 * feature are one vector.
 *
 * y (out, B) = W^T x for x (in, B), W (in, out) as panels (ceil(out / 8), in, 8); y has
 * padded(out) rows. One stream: each panel's 8 outputs accumulate x[i] * W[i, panel] (8
 * panels at once). Several: eight streams' x[i] is one vector, and each of a panel's 8 outputs
 * accumulates W[i, o] * x[i, streams]; a last partial group of streams is masked. */
#ifdef MG_AVX2
static void one_stream(const float *x, int in, const float *wp, int panels, float *y) {
    const ptrdiff_t panel = (ptrdiff_t)in * PANEL;
    int p = 0;
    for (; p + 8 <= panels; p += 8) {
        __m256 acc[8];
        for (int a = 0; a < 8; a++) acc[a] = _mm256_setzero_ps();
        const float *w = wp + p * panel;
        for (int i = 0; i < in; i++) {
            const __m256 xv = _mm256_broadcast_ss(x + i);
            for (int a = 0; a < 8; a++)
                acc[a] = _mm256_fmadd_ps(xv, _mm256_load_ps(w + a * panel + i * PANEL), acc[a]);
        }
        for (int a = 0; a < 8; a++) _mm256_storeu_ps(y + (p + a) * PANEL, acc[a]);
    }
    for (; p < panels; p++) {
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
        const float *w = wp + p * panel;
        int i = 0;
        for (; i + 2 <= in; i += 2) {
            acc0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + i), _mm256_load_ps(w + i * PANEL), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + i + 1),
                                   _mm256_load_ps(w + (i + 1) * PANEL), acc1);
        }
        if (i < in)
            acc0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + i), _mm256_load_ps(w + i * PANEL), acc0);
        _mm256_storeu_ps(y + p * PANEL, _mm256_add_ps(acc0, acc1));
    }
}

static void streams(const float *x, int batch, int in, const float *wp, int panels, float *y) {
    const ptrdiff_t panel = (ptrdiff_t)in * PANEL;
    for (int p = 0; p < panels; p++) {
        const float *w = wp + p * panel;
        for (int b0 = 0; b0 < batch; b0 += 8) {
            const int lanes = batch - b0 < 8 ? batch - b0 : 8;
            const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes),
                                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            __m256 acc[8];
            for (int a = 0; a < 8; a++) acc[a] = _mm256_setzero_ps();
            if (lanes == 8) {
                for (int i = 0; i < in; i++) {
                    const __m256 xv = _mm256_loadu_ps(x + (ptrdiff_t)i * batch + b0);
                    for (int a = 0; a < 8; a++)
                        acc[a] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + i * PANEL + a), xv, acc[a]);
                }
            } else {
                for (int i = 0; i < in; i++) {
                    const __m256 xv = _mm256_maskload_ps(x + (ptrdiff_t)i * batch + b0, mask);
                    for (int a = 0; a < 8; a++)
                        acc[a] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + i * PANEL + a), xv, acc[a]);
                }
            }
            for (int a = 0; a < 8; a++)
                _mm256_maskstore_ps(y + (ptrdiff_t)(p * PANEL + a) * batch + b0, mask, acc[a]);
        }
    }
}
#else
static void one_stream(const float *x, int in, const float *wp, int panels, float *y) {
    const ptrdiff_t panel = (ptrdiff_t)in * PANEL;
    for (int p = 0; p < panels; p++) {
        float acc[PANEL] = {0};
        for (int i = 0; i < in; i++)
            for (int k = 0; k < PANEL; k++) acc[k] += x[i] * wp[p * panel + i * PANEL + k];
        memcpy(y + p * PANEL, acc, sizeof acc);
    }
}

static void streams(const float *x, int batch, int in, const float *wp, int panels, float *y) {
    const ptrdiff_t panel = (ptrdiff_t)in * PANEL;
    for (int p = 0; p < panels; p++)
        for (int b0 = 0; b0 < batch; b0 += 8) {
            const int lanes = batch - b0 < 8 ? batch - b0 : 8;
            float acc[PANEL][8] = {{0}};
            for (int i = 0; i < in; i++)
                for (int a = 0; a < PANEL; a++)
                    for (int l = 0; l < lanes; l++)
                        acc[a][l] += wp[p * panel + i * PANEL + a] * x[(ptrdiff_t)i * batch + b0 + l];
            for (int a = 0; a < PANEL; a++)
                memcpy(y + (ptrdiff_t)(p * PANEL + a) * batch + b0, acc[a], sizeof(float) * lanes);
        }
}
#endif

static void matmul(const float *x, int batch, int in, const float *wp, int out, float *y) {
    const int panels = padded(out) / PANEL;
    if (batch == 1) one_stream(x, in, wp, panels, y);
    else streams(x, batch, in, wp, panels, y);
}

/* exposed for the tests: the product alone */
void mg_matmul(const float *x, int batch, int in, const float *wp, int out, float *y) {
    matmul(x, batch, in, wp, out, y);
}

/* -------------------------------------------------------------------------- elementwise */
/* exp(x): 0 below -87, clamped at 88, else Cephes' expf polynomial: ~2 ulp. gcc does not vectorise
 * loops of it (the float's bits), so the hot loops below are written with 8-wide AVX2 twins
 * (vexp, vtanh) and use these for their last few elements. */
static inline float fexp(float x) {
    if (x < -87.0f) return 0.0f;  /* float32's exp underflows about here */
    x = fminf(x, 88.0f);
    const float n = floorf(x * 1.44269504088896341f + 0.5f);
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;  /* 2^n */
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

/* tanh through exp: absolute error ~1e-7 (relative error grows near 0, where it is tiny) */
static inline float ftanh(float x) {
    const float e = fexp(-2.0f * fabsf(x));
    return copysignf((1.0f - e) / (1.0f + e), x);
}

#ifdef MG_AVX2
static inline __m256 vexp(__m256 x) {
    const __m256 kept = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);  /* else 0 */
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f),
                                                     _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), kept);
}

static inline __m256 vtanh(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 e = vexp(_mm256_mul_ps(_mm256_set1_ps(-2.0f), _mm256_andnot_ps(sign, x)));
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    return _mm256_or_ps(t, _mm256_and_ps(x, sign));
}
#endif

/* x[k] = tanh(x[k]) for k < n */
static void tanh_all(float *x, size_t n) {
    size_t k = 0;
#ifdef MG_AVX2
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(x + k, vtanh(_mm256_loadu_ps(x + k)));
#endif
    for (; k < n; k++) x[k] = ftanh(x[k]);
}

/* x[k] = exp(x[k] - shift) for k < n */
static void exp_all(float *x, size_t n, float shift) {
    size_t k = 0;
#ifdef MG_AVX2
    const __m256 s = _mm256_set1_ps(shift);
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(x + k, vexp(_mm256_sub_ps(_mm256_loadu_ps(x + k), s)));
#endif
    for (; k < n; k++) x[k] = fexp(x[k] - shift);
}

/* the LSTM cell for n values: c = f c + i g, h = o tanh(c), with i, f, o = (1 + gate) / 2 */
static void cell_all(const float *gi, const float *gf, const float *go, const float *gg,
                     float *c, float *h, size_t n) {
    size_t k = 0;
#ifdef MG_AVX2
    const __m256 one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
    for (; k + 8 <= n; k += 8) {
        const __m256 i = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(gi + k), one), half);
        const __m256 f = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(gf + k), one), half);
        const __m256 o = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(go + k), one), half);
        const __m256 cell = _mm256_fmadd_ps(_mm256_loadu_ps(c + k), f,
                                            _mm256_mul_ps(_mm256_loadu_ps(gg + k), i));
        _mm256_storeu_ps(c + k, cell);
        _mm256_storeu_ps(h + k, _mm256_mul_ps(vtanh(cell), o));
    }
#endif
    for (; k < n; k++) {
        const float cell = c[k] * (gf[k] + 1.0f) * 0.5f + gg[k] * (gi[k] + 1.0f) * 0.5f;
        c[k] = cell;
        h[k] = ftanh(cell) * (go[k] + 1.0f) * 0.5f;
    }
}

/* ops.gelu_ for n values: GELU of the scaled input, scaled; f = {.., .., c1..c5}, e = -1/p^2 */
static void gelu_all(float *y, size_t n, const float *f, float e) {
    size_t k = 0;
#ifdef MG_AVX2
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    for (; k + 8 <= n; k += 8) {
        const __m256 v = _mm256_loadu_ps(y + k), a = _mm256_andnot_ps(sign, v);
        const __m256 t = _mm256_div_ps(one, _mm256_add_ps(one, a));
        __m256 poly = _mm256_set1_ps(f[6]);
        for (int j = 5; j >= 2; j--) poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(f[j]));
        poly = _mm256_mul_ps(_mm256_mul_ps(poly, t), a);
        const __m256 g = vexp(_mm256_mul_ps(_mm256_mul_ps(a, a), _mm256_set1_ps(e)));
        _mm256_storeu_ps(y + k, _mm256_fnmadd_ps(poly, g, _mm256_max_ps(v, _mm256_setzero_ps())));
    }
#endif
    for (; k < n; k++) {
        const float v = y[k], a = fabsf(v), t = 1.0f / (1.0f + a);
        float poly = f[6];
        for (int j = 5; j >= 2; j--) poly = poly * t + f[j];
        y[k] = fmaxf(v, 0.0f) - poly * t * a * fexp(a * a * e);
    }
}

/* --------------------------------------------------------------------------------- LSTM */
/* Model: int64 d[] = {vocab, hidden, layers, table, head, head_bias, then per layer n:
 * panels of the recurrent (n = 0: W_hh0^T (H, 4H)) or joined (n > 0: [W_ih | W_hh]^T
 * (2H, 4H)) matrix, and its bias (n > 0; 0 for n = 0)}, pointers as integers. head is the
 * panels of (H, V). table (V, 4H) is layer 0's input projection of each token, bias in.
 *
 * One step of B streams: ids (B); h (layers * H, B) and c (layers, H, B) updated in place;
 * logits (B, padded(V)); work: padded(4H) * B + padded(V) * B floats. 0, or -1 for an id
 * outside the vocabulary (nothing touched). */
int mg_lstm_step(const int64_t *d, int batch, const int64_t *ids, float *h, float *c,
                 float *work, float *logits) {
    const int vocab = (int)d[0], hid = (int)d[1], layers = (int)d[2], g4 = 4 * hid;
    const size_t hb = (size_t)hid * batch;
    const float *table = (const float *)(intptr_t)d[3];
    const float *head = (const float *)(intptr_t)d[4];
    const float *head_bias = (const float *)(intptr_t)d[5];
    float *gates = work, *scores = work + (size_t)padded(g4) * batch;
    for (int r = 0; r < batch; r++)
        if (ids[r] < 0 || ids[r] >= vocab) return -1;
    for (int n = 0; n < layers; n++) {
        const float *w = (const float *)(intptr_t)d[6 + 2 * n];
        const float *bias = (const float *)(intptr_t)d[7 + 2 * n];
        /* layer 0 reads its own h; layer n its input (layer n - 1) and its own h, adjacent */
        matmul(h + (n ? n - 1 : 0) * hb, batch, n ? 2 * hid : hid, w, g4, gates);
        if (n) {
            for (int j = 0; j < g4; j++)
                for (int r = 0; r < batch; r++) gates[(size_t)j * batch + r] += bias[j];
        } else {
            for (int r = 0; r < batch; r++) {
                const float *row = table + (size_t)ids[r] * g4;
                for (int j = 0; j < g4; j++) gates[(size_t)j * batch + r] += row[j];
            }
        }
        tanh_all(gates, 4 * hb);  /* i, f, o: sigmoid = (1 + tanh(z / 2)) / 2 */
        cell_all(gates, gates + hb, gates + 2 * hb, gates + 3 * hb, c + n * hb, h + n * hb, hb);
    }
    const int vp = padded(vocab);
    matmul(h + (layers - 1) * hb, batch, hid, head, vocab, scores);
    for (int j = 0; j < vocab; j++)
        for (int r = 0; r < batch; r++)
            logits[(size_t)r * vp + j] = scores[(size_t)j * batch + r] + head_bias[j];
    return 0;
}

/* -------------------------------------------------------------------------- Transformer */
/* Model: int64 d[] = {vocab, width, heads, ff, layers, max_len, tok, pos, bar (0: none),
 * head, then per layer: qkv, proj, fc, out (panels), then the number of buckets and the
 * bucket table next_bucket (buckets, V) int64}; f[] = {eps_col, gelu_exp, c1..c5}
 * (`ops.gelu_`'s constants: the A&S erfc polynomial, halved, and -1 / p^2).
 *
 * One step of B streams at position `start` (< max_len): ids (B); buckets (B), the metrical
 * position before, updated; tokens (B, cap) int64, written at `start`; keys
 * (layers, B, heads, cap, hd) and values (layers, B, heads, cap, hd + 1), written at `start`;
 * logits (B, padded(V)); work: `mg_transformer_work(...)` floats. 0; -1 for an id or bucket
 * out of range, -2 for a full cache (nothing touched). */
static size_t transformer_work(int batch, int width, int ff, int qkv, int vocab, int cap) {
    return (size_t)batch * ((size_t)width + padded(width + 1) + padded(qkv) + padded(width + 1)
                            + padded(ff + 1) + padded(width) + padded(vocab)) + cap + 64;
}

size_t mg_transformer_work(int batch, int width, int ff, int heads, int vocab, int cap) {
    return transformer_work(batch, width, ff, 2 * width + heads * (width / heads + 1), vocab, cap);
}

/* LayerNorm of each stream without gain and bias, divided by sqrt(C) (`ops.normalize`), into
 * out (C + 1, B); its last row, eps_col, reads the next matrix's bias row. */
static void normalize(const float *x, int width, int batch, float eps_col, float *out) {
    if (batch == 1) {
        float mean = 0.0f, spread = eps_col * eps_col;
        for (int j = 0; j < width; j++) mean += x[j];
        mean /= (float)width;
        for (int j = 0; j < width; j++) {
            out[j] = x[j] - mean;
            spread += out[j] * out[j];
        }
        const float scale = 1.0f / sqrtf(spread);
        for (int j = 0; j < width; j++) out[j] *= scale;
        out[width] = eps_col;
        return;
    }
    float mean[batch], spread[batch];
    for (int r = 0; r < batch; r++) mean[r] = 0.0f, spread[r] = eps_col * eps_col;
    for (int j = 0; j < width; j++)
        for (int r = 0; r < batch; r++) mean[r] += x[(size_t)j * batch + r];
    for (int r = 0; r < batch; r++) mean[r] /= (float)width;
    for (int j = 0; j < width; j++)
        for (int r = 0; r < batch; r++) {
            const float centred = out[(size_t)j * batch + r] = x[(size_t)j * batch + r] - mean[r];
            spread[r] += centred * centred;
        }
    for (int r = 0; r < batch; r++) spread[r] = 1.0f / sqrtf(spread[r]);
    for (int j = 0; j < width; j++)
        for (int r = 0; r < batch; r++) out[(size_t)j * batch + r] *= spread[r];
    for (int r = 0; r < batch; r++) out[(size_t)width * batch + r] = eps_col;
}

int mg_transformer_step(const int64_t *d, const float *f, int batch, int start, int cap,
                        const int64_t *ids, int64_t *buckets, int64_t *tokens, float *keys,
                        float *values, float *work, float *logits) {
    const int vocab = (int)d[0], c = (int)d[1], heads = (int)d[2], ff = (int)d[3];
    const int layers = (int)d[4], hd = c / heads, qw = 2 * c + heads * (hd + 1);
    const float *tok = (const float *)(intptr_t)d[6], *pos = (const float *)(intptr_t)d[7];
    const float *bar = (const float *)(intptr_t)d[8], *head = (const float *)(intptr_t)d[9];
    const float eps_col = f[0], gelu_exp = f[1];
    const size_t cb = (size_t)c * batch, fb = (size_t)ff * batch;
    float *x = work, *normed = x + cb, *qkv = normed + (size_t)padded(c + 1) * batch;
    float *att = qkv + (size_t)padded(qw) * batch, *hidden = att + (size_t)padded(c + 1) * batch;
    float *delta = hidden + (size_t)padded(ff + 1) * batch;
    float *scores = delta + (size_t)padded(c) * batch;  /* also the logits, (V, B) */
    float *weights = scores + (size_t)padded(vocab) * batch;
    const size_t kv_row = (size_t)heads * cap;  /* a stream's cache: heads x cap positions */
    const int64_t count = d[10 + 4 * layers];  /* buckets */
    const int64_t *next_bucket = (const int64_t *)(intptr_t)d[11 + 4 * layers];
    if (start < 0 || start >= cap || start >= (int)d[5]) return -2;
    for (int r = 0; r < batch; r++)
        if (ids[r] < 0 || ids[r] >= vocab || (bar && (buckets[r] < 0 || buckets[r] >= count)))
            return -1;
    for (int r = 0; r < batch; r++) {  /* the metrical position after this token */
        tokens[(size_t)r * cap + start] = ids[r];
        if (bar) buckets[r] = next_bucket[buckets[r] * vocab + ids[r]];
    }

    for (int r = 0; r < batch; r++) {
        const float *t = tok + (size_t)ids[r] * c, *p = pos + (size_t)start * c;
        const float *b = bar ? bar + (size_t)buckets[r] * c : NULL;
        for (int j = 0; j < c; j++) x[(size_t)j * batch + r] = t[j] + p[j] + (b ? b[j] : 0.0f);
    }
    for (int l = 0; l < layers; l++) {
        const float *w_qkv = (const float *)(intptr_t)d[10 + 4 * l];
        const float *w_proj = (const float *)(intptr_t)d[11 + 4 * l];
        const float *w_fc = (const float *)(intptr_t)d[12 + 4 * l];
        const float *w_out = (const float *)(intptr_t)d[13 + 4 * l];
        normalize(x, c, batch, eps_col, normed);
        matmul(normed, batch, c + 1, w_qkv, qw, qkv);
        for (int r = 0; r < batch; r++) {
            for (int h = 0; h < heads; h++) {
                float *k = keys + (((size_t)l * batch + r) * kv_row + (size_t)h * cap) * hd;
                float *v = values + (((size_t)l * batch + r) * kv_row + (size_t)h * cap) * (hd + 1);
                float q[hd], sum[hd + 1];  /* sum: numerators, then the denominator (ones) */
                for (int e = 0; e < hd; e++) {
                    q[e] = qkv[(size_t)(h * hd + e) * batch + r];
                    k[(size_t)start * hd + e] = qkv[(size_t)(c + h * hd + e) * batch + r];
                }
                for (int e = 0; e <= hd; e++)
                    v[(size_t)start * (hd + 1) + e] = qkv[(size_t)(2 * c + h * (hd + 1) + e) * batch + r];
                float top = -INFINITY;
                for (int t = 0; t <= start; t++) {
                    const float *kt = k + (size_t)t * hd;
                    float s = 0.0f;
                    for (int e = 0; e < hd; e++) s += q[e] * kt[e];
                    weights[t] = s;
                    top = s > top ? s : top;
                }
                exp_all(weights, (size_t)start + 1, top);
                memset(sum, 0, sizeof sum);
                for (int t = 0; t <= start; t++) {
                    const float wt = weights[t], *vt = v + (size_t)t * (hd + 1);
                    for (int e = 0; e <= hd; e++) sum[e] += wt * vt[e];
                }
                const float inv = 1.0f / sum[hd];
                for (int e = 0; e < hd; e++) att[(size_t)(h * hd + e) * batch + r] = sum[e] * inv;
            }
            att[cb + r] = 1.0f;  /* reads proj's bias row */
        }
        matmul(att, batch, c + 1, w_proj, c, delta);
        for (size_t k = 0; k < cb; k++) x[k] += delta[k];
        normalize(x, c, batch, eps_col, normed);
        matmul(normed, batch, c + 1, w_fc, ff, hidden);
        gelu_all(hidden, fb, f, gelu_exp);
        for (int r = 0; r < batch; r++) hidden[fb + r] = 1.0f;  /* reads out's bias row */
        matmul(hidden, batch, ff + 1, w_out, c, delta);
        for (size_t k = 0; k < cb; k++) x[k] += delta[k];
    }
    normalize(x, c, batch, eps_col, normed);
    const int vp = padded(vocab);
    if (batch == 1) {
        matmul(normed, 1, c + 1, head, vocab, logits);
        return 0;
    }
    matmul(normed, batch, c + 1, head, vocab, scores);
    for (int j = 0; j < vocab; j++)
        for (int r = 0; r < batch; r++) logits[(size_t)r * vp + j] = scores[(size_t)j * batch + r];
    return 0;
}

/* ------------------------------------------------------------------------------ drawing */
/* For each row r of z (rows, vocab; rows `ld` apart, -inf for a forbidden id): the id whose
 * cumulative probability under softmax(z * inv_t) first exceeds u[r] (in [0, 1)): an
 * inverse-CDF draw, probabilities summed in double. A forbidden id is never drawn; a row with
 * nothing allowed gives 0 (the sampler never leaves one). */
void mg_draw(const float *z, int rows, int vocab, ptrdiff_t ld, float inv_t, const double *u,
             int64_t *out) {
    float p[vocab];
    for (int r = 0; r < rows; r++) {
        const float *zr = z + (ptrdiff_t)r * ld;
        float top = -INFINITY;
        for (int j = 0; j < vocab; j++) top = zr[j] > top ? zr[j] : top;
        out[r] = 0;
        if (!(top > -INFINITY)) continue;
        int j = 0;
#ifdef MG_AVX2
        const __m256 t = _mm256_set1_ps(top), scale = _mm256_set1_ps(inv_t);
        const __m256 never = _mm256_set1_ps(-INFINITY);
        for (; j + 8 <= vocab; j += 8) {
            const __m256 v = _mm256_loadu_ps(zr + j);
            const __m256 e = vexp(_mm256_mul_ps(_mm256_sub_ps(v, t), scale));
            _mm256_storeu_ps(p + j, _mm256_and_ps(e, _mm256_cmp_ps(v, never, _CMP_GT_OQ)));
        }
#endif
        for (; j < vocab; j++) p[j] = zr[j] > -INFINITY ? fexp((zr[j] - top) * inv_t) : 0.0f;
        double total = 0.0;
        for (j = 0; j < vocab; j++) total += p[j];
        const double target = u[r] * total;
        double sum = 0.0;
        int last = 0;
        for (j = 0; j < vocab; j++) {
            if (p[j] <= 0.0f) continue;
            last = j;
            sum += p[j];
            if (sum > target) break;
        }
        out[r] = j < vocab ? j : last;
    }
}
