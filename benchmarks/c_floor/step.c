/* The plain-C floor of a batch-1 generation step (issue 17): both shipped models, one token a
 * call, in straightforward C11 a competent programmer would write to find what the machine can
 * do, to compare the NumPy engine's step with on the same machine in the same run.
 *
 * It computes what musicgen/engine/lstm.py (LSTMEngine.step) and musicgen/engine/transformer.py
 * (TransformerEngine.step) compute, from the engines' own folded arrays, which
 * benchmarks/bench_floor.py writes to a raw file (format below): the LayerNorm gains folded
 * into the matrices after them, biases as a matrix's last row (read by a last input of
 * `eps_col` after a normalized row, 1 after any other), the queries pre-scaled, GELU's input and
 * output scaled (`gelu_k`), the LSTM's gates reordered i, f, o, g with the sigmoid rows halved
 * (sigmoid(z) = (1 + tanh(z / 2)) / 2). What differs from NumPy is only the order of float
 * additions, erff for the engine's erf approximation, and the softmax's denominator summed
 * directly (the engine reads it from the cached values' column of ones).
 *
 * Every product is y = x @ W with W (in, out) row-major: a loop over the inputs around a
 * contiguous loop over the outputs, which gcc vectorises. The weights sit in one 2 MB-aligned
 * block the kernel is asked to back with huge pages, as the NumPy engine's do (`ops.pack`).
 *
 *     step WEIGHTS IDS LOGITS SEED TOKEN STEPS REPEATS
 *
 * 1. Steps every id of IDS (int32) from the empty state and writes each step's logits to LOGITS
 *    (float32, ids x vocab): the check against the NumPy engine.
 * 2. When REPEATS > 0: steps the first SEED ids, keeps that state, then REPEATS + 1 times (the
 *    first a warm-up) restores it and steps TOKEN STEPS times; prints the best run's thread CPU
 *    seconds per step and a checksum of its last logits (so nothing is optimised away).
 *
 * WEIGHTS: int32 header[16] = {magic 0x3146474d "MGF1", kind (1 LSTM, 2 Transformer), dims...,
 * float32 constants as their bits}, then each array as int32 count and count values (float32;
 * the bucket table int32) in the order read below.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define MAGIC 0x3146474d
#define HUGE_PAGE (2u << 20)

static void die(const char *what) {
    fprintf(stderr, "step: %s\n", what);
    exit(2);
}

/* ------------------------------------------------------------------------- weights, memory */
static float *arena;
static size_t arena_used, arena_size;

static void *take(size_t bytes) {  /* from the weight block, 64-byte aligned */
    size_t start = (arena_used + 63) & ~(size_t)63;
    if (start + bytes > arena_size) die("weight file larger than its header says");
    arena_used = start + bytes;
    return (char *)arena + start;
}

static void *read_array(FILE *f, size_t count) {
    int32_t stored;
    if (fread(&stored, 4, 1, f) != 1 || (size_t)stored != count) die("array of the wrong size");
    void *data = take(4 * count);
    if (fread(data, 4, count, f) != count) die("weight file truncated");
    return data;
}

static void open_arena(size_t bytes) {
    arena_size = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    arena = aligned_alloc(HUGE_PAGE, arena_size);
    if (!arena) die("out of memory");
#ifdef MADV_HUGEPAGE
    madvise(arena, arena_size, MADV_HUGEPAGE);  /* no huge pages: same numbers, slower */
#endif
}

static float *zeros(size_t count) {
    float *p = aligned_alloc(64, (4 * count + 63) / 64 * 64);
    if (!p) die("out of memory");
    memset(p, 0, 4 * count);
    return p;
}

/* y (out) = x (rows) @ W (rows, out): the floor's one product */
static void matvec(const float *restrict x, int rows, const float *restrict w, int out,
                   float *restrict y) {
    memset(y, 0, sizeof(float) * (size_t)out);
    for (int i = 0; i < rows; i++) {
        const float xi = x[i];
        const float *restrict row = w + (size_t)i * out;
        for (int j = 0; j < out; j++) y[j] += xi * row[j];
    }
}

/* ------------------------------------------------------------------------------- LSTM */
typedef struct {
    int vocab, hidden, layers;
    const float *table;           /* (V, 4H): layer 0's input projection of each token, bias in */
    const float *w_hh0;           /* (H, 4H) */
    const float **w_cat;          /* layers - 1 of (2H, 4H): [W_ih | W_hh] transposed */
    const float **bias;           /* layers - 1 of (4H) */
    const float *head;            /* (H, V) */
    const float *head_bias;       /* (V) */
    float *h, *c, *gates;         /* state: h (layers * H), c (layers * H); gates (4H) */
} LSTM;

static void lstm_cell(const LSTM *m, float *restrict gates, float *restrict c,
                      float *restrict h) {
    const int n = m->hidden;
    for (int j = 0; j < 4 * n; j++) gates[j] = tanhf(gates[j]);
    for (int j = 0; j < 3 * n; j++) gates[j] = (gates[j] + 1.0f) * 0.5f;  /* i, f, o: sigmoid */
    const float *i = gates, *f = gates + n, *o = gates + 2 * n, *g = gates + 3 * n;
    for (int j = 0; j < n; j++) {
        c[j] = c[j] * f[j] + g[j] * i[j];
        h[j] = tanhf(c[j]) * o[j];
    }
}

static void lstm_step(LSTM *m, int id, float *logits) {
    const int n = m->hidden, g4 = 4 * n;
    matvec(m->h, n, m->w_hh0, g4, m->gates);
    const float *row = m->table + (size_t)id * g4;
    for (int j = 0; j < g4; j++) m->gates[j] += row[j];
    lstm_cell(m, m->gates, m->c, m->h);
    for (int l = 1; l < m->layers; l++) {  /* input and own last output are adjacent in h */
        matvec(m->h + (size_t)(l - 1) * n, 2 * n, m->w_cat[l - 1], g4, m->gates);
        for (int j = 0; j < g4; j++) m->gates[j] += m->bias[l - 1][j];
        lstm_cell(m, m->gates, m->c + (size_t)l * n, m->h + (size_t)l * n);
    }
    matvec(m->h + (size_t)(m->layers - 1) * n, n, m->head, m->vocab, logits);
    for (int j = 0; j < m->vocab; j++) logits[j] += m->head_bias[j];
}

static void lstm_load(LSTM *m, const int32_t *hd, FILE *f) {
    m->vocab = hd[2], m->hidden = hd[3], m->layers = hd[4];
    const size_t v = m->vocab, n = m->hidden;
    if (m->layers < 1) die("no layers");
    m->table = read_array(f, v * 4 * n);
    m->w_hh0 = read_array(f, n * 4 * n);
    m->w_cat = malloc(sizeof(float *) * m->layers);
    m->bias = malloc(sizeof(float *) * m->layers);
    for (int l = 1; l < m->layers; l++) {
        m->w_cat[l - 1] = read_array(f, 2 * n * 4 * n);
        m->bias[l - 1] = read_array(f, 4 * n);
    }
    m->head = read_array(f, n * v);
    m->head_bias = read_array(f, v);
    m->h = zeros(m->layers * n), m->c = zeros(m->layers * n), m->gates = zeros(4 * n);
}

/* ---------------------------------------------------------------------------- Transformer */
typedef struct {
    /* (C+1, 2C + heads * (hd+1)): queries, keys, and values each followed by the engine's column
     * of ones (unused here); (C+1, C); (C+1, F); (F+1, C) */
    const float *qkv, *proj, *fc, *out;
    float *keys, *values;                /* cache (heads, max_len, hd) each */
} Block;

typedef struct {
    int vocab, width, heads, head_dim, ff, layers, max_len, buckets;
    float eps_col, gelu_k;       /* sqrt(C * eps); GELU(x) = x (1 + erf(x * gelu_k)) / 2 */
    const float *tok, *pos, *bar;  /* (V, C), (max_len, C), (buckets, C) or NULL */
    const int32_t *next_bucket;  /* (buckets, V) */
    const float *head;           /* (C+1, V): the final LayerNorm folded in, tied */
    Block *block;
    int length, bucket;          /* state: cached positions, metrical bucket after the last id */
    float *x, *normed, *qkv, *attended, *hidden, *delta, *scores;  /* buffers */
} Transformer;

/* LayerNorm without gain and bias (folded into the next matrix), divided by sqrt(C) as
 * `ops.normalize`; the last input, eps_col, reads the next matrix's bias row */
static void normalize(const Transformer *m, const float *restrict x, float *restrict out) {
    const int c = m->width;
    float mean = 0.0f, spread = m->eps_col * m->eps_col;
    for (int j = 0; j < c; j++) mean += x[j];
    mean /= (float)c;
    for (int j = 0; j < c; j++) {
        out[j] = x[j] - mean;
        spread += out[j] * out[j];
    }
    const float scale = 1.0f / sqrtf(spread);
    for (int j = 0; j < c; j++) out[j] *= scale;
    out[c] = m->eps_col;
}

static void attention(Transformer *m, Block *b) {
    const int c = m->width, hd = m->head_dim, end = m->length + 1, stride = m->max_len * hd;
    for (int h = 0; h < m->heads; h++) {
        const float *q = m->qkv + h * hd;
        float *keys = b->keys + (size_t)h * stride, *values = b->values + (size_t)h * stride;
        memcpy(keys + (size_t)m->length * hd, m->qkv + c + h * hd, sizeof(float) * hd);
        memcpy(values + (size_t)m->length * hd, m->qkv + 2 * c + h * (hd + 1), sizeof(float) * hd);
        float top = 0.0f, total = 0.0f;
        for (int t = 0; t < end; t++) {
            const float *k = keys + (size_t)t * hd;
            float s = 0.0f;
            for (int d = 0; d < hd; d++) s += q[d] * k[d];
            m->scores[t] = s;
            top = (t == 0 || s > top) ? s : top;
        }
        for (int t = 0; t < end; t++) total += m->scores[t] = expf(m->scores[t] - top);
        float *out = m->attended + h * hd;
        memset(out, 0, sizeof(float) * hd);
        for (int t = 0; t < end; t++) {
            const float w = m->scores[t], *v = values + (size_t)t * hd;
            for (int d = 0; d < hd; d++) out[d] += w * v[d];
        }
        const float inv = 1.0f / total;
        for (int d = 0; d < hd; d++) out[d] *= inv;
    }
}

static void transformer_step(Transformer *m, int id, float *logits) {
    const int c = m->width, f = m->ff;
    if (m->length >= m->max_len) die("the window is full (this floor does not slide)");
    const float *tok = m->tok + (size_t)id * c, *pos = m->pos + (size_t)m->length * c;
    for (int j = 0; j < c; j++) m->x[j] = tok[j] + pos[j];
    if (m->bar) {
        m->bucket = m->next_bucket[(size_t)m->bucket * m->vocab + id];
        const float *bar = m->bar + (size_t)m->bucket * c;
        for (int j = 0; j < c; j++) m->x[j] += bar[j];
    }
    for (int l = 0; l < m->layers; l++) {
        Block *b = &m->block[l];
        normalize(m, m->x, m->normed);
        matvec(m->normed, c + 1, b->qkv, 2 * c + m->heads * (m->head_dim + 1), m->qkv);
        attention(m, b);
        matvec(m->attended, c + 1, b->proj, c, m->delta);  /* attended[c] = 1: the bias row */
        for (int j = 0; j < c; j++) m->x[j] += m->delta[j];
        normalize(m, m->x, m->normed);
        matvec(m->normed, c + 1, b->fc, f, m->hidden);
        for (int j = 0; j < f; j++) {  /* exact GELU of the scaled input, output scaled alike */
            const float y = m->hidden[j];
            m->hidden[j] = 0.5f * y * (1.0f + erff(y * m->gelu_k));
        }
        matvec(m->hidden, f + 1, b->out, c, m->delta);  /* hidden[f] = 1 */
        for (int j = 0; j < c; j++) m->x[j] += m->delta[j];
    }
    normalize(m, m->x, m->normed);
    matvec(m->normed, c + 1, m->head, m->vocab, logits);
    m->length++;
}

static float bits_float(int32_t bits) {
    float value;
    memcpy(&value, &bits, 4);
    return value;
}

static void transformer_load(Transformer *m, const int32_t *hd, FILE *f) {
    m->vocab = hd[2], m->width = hd[3], m->heads = hd[4], m->ff = hd[5], m->layers = hd[6];
    m->max_len = hd[7], m->buckets = hd[8];
    m->eps_col = bits_float(hd[9]), m->gelu_k = bits_float(hd[10]);
    if (m->heads < 1 || m->width % m->heads) die("width not a multiple of the heads");
    m->head_dim = m->width / m->heads;
    const size_t v = m->vocab, c = m->width, ff = m->ff;
    m->tok = read_array(f, v * c);
    m->pos = read_array(f, (size_t)m->max_len * c);
    m->bar = m->buckets ? read_array(f, (size_t)m->buckets * c) : NULL;
    m->next_bucket = m->buckets ? read_array(f, (size_t)m->buckets * v) : NULL;
    m->block = calloc(m->layers, sizeof(Block));
    for (int l = 0; l < m->layers; l++) {
        Block *b = &m->block[l];
        b->qkv = read_array(f, (c + 1) * (2 * c + m->heads * (m->head_dim + 1)));
        b->proj = read_array(f, (c + 1) * c);
        b->fc = read_array(f, (c + 1) * ff);
        b->out = read_array(f, (ff + 1) * c);
        b->keys = zeros((size_t)m->max_len * c);
        b->values = zeros((size_t)m->max_len * c);
    }
    m->head = read_array(f, (c + 1) * v);
    m->x = zeros(c), m->normed = zeros(c + 1), m->delta = zeros(c);
    m->qkv = zeros(2 * c + m->heads * (m->head_dim + 1));
    m->attended = zeros(c + 1), m->attended[c] = 1.0f;
    m->hidden = zeros(ff + 1), m->hidden[ff] = 1.0f;
    m->scores = zeros(m->max_len);
}

/* ------------------------------------------------------------------------- either model */
typedef struct {
    int kind;  /* 1 LSTM, 2 Transformer */
    LSTM lstm;
    Transformer tf;
} Model;

static void step(Model *m, int id, float *logits) {
    if (m->kind == 1) lstm_step(&m->lstm, id, logits);
    else transformer_step(&m->tf, id, logits);
}

static int vocab(const Model *m) { return m->kind == 1 ? m->lstm.vocab : m->tf.vocab; }

static void reset(Model *m) {  /* the empty state */
    if (m->kind == 1) {
        size_t n = (size_t)m->lstm.layers * m->lstm.hidden;
        memset(m->lstm.h, 0, 4 * n), memset(m->lstm.c, 0, 4 * n);
    } else {
        m->tf.length = 0, m->tf.bucket = 0;  /* stale cache rows past `length` are never read */
    }
}

/* The state after the seed, kept aside and restored before each timed run (the NumPy
 * benchmark copies its seeded state too: `engine.select`). Only the valid cache positions. */
typedef struct {
    float *h, *c, *keys, *values;
    int length, bucket;
} Saved;

static void copy_state(Model *m, Saved *s, int restore) {
#define COPY(state, kept, bytes) \
    memcpy(restore ? (state) : (kept), restore ? (kept) : (state), bytes)
    if (m->kind == 1) {
        const size_t bytes = 4 * (size_t)m->lstm.layers * m->lstm.hidden;
        COPY(m->lstm.h, s->h, bytes);
        COPY(m->lstm.c, s->c, bytes);
        return;
    }
    Transformer *t = &m->tf;
    const size_t per_head = (size_t)t->max_len * t->head_dim;
    for (int l = 0; l < t->layers; l++)
        for (int h = 0; h < t->heads; h++) {
            const size_t at = (size_t)h * per_head, kept = ((size_t)l * t->heads + h) * per_head;
            COPY(t->block[l].keys + at, s->keys + kept, 4 * (size_t)s->length * t->head_dim);
            COPY(t->block[l].values + at, s->values + kept, 4 * (size_t)s->length * t->head_dim);
        }
    t->length = s->length, t->bucket = s->bucket;
#undef COPY
}

static Saved save(Model *m) {
    Saved s = {0};
    if (m->kind == 1) {
        const size_t bytes = 4 * (size_t)m->lstm.layers * m->lstm.hidden;
        s.h = malloc(bytes), s.c = malloc(bytes);
    } else {
        const size_t all = (size_t)m->tf.layers * m->tf.max_len * m->tf.width;
        s.keys = malloc(4 * all), s.values = malloc(4 * all);
        s.length = m->tf.length, s.bucket = m->tf.bucket;
    }
    copy_state(m, &s, 0);
    return s;
}

static double thread_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 8) die("usage: step WEIGHTS IDS LOGITS SEED TOKEN STEPS REPEATS");
    const int seed = atoi(argv[4]), token = atoi(argv[5]), steps = atoi(argv[6]);
    const int repeats = atoi(argv[7]);

    FILE *f = fopen(argv[1], "rb");
    if (!f) die("cannot open the weights");
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int32_t header[16];
    if (fread(header, 4, 16, f) != 16 || header[0] != MAGIC) die("not a weight file");
    open_arena((size_t)bytes + 64 * 64);
    Model m = {.kind = header[1]};
    if (m.kind == 1) lstm_load(&m.lstm, header, f);
    else if (m.kind == 2) transformer_load(&m.tf, header, f);
    else die("unknown model kind");
    if (fgetc(f) != EOF) die("weight file longer than expected");
    fclose(f);
    const int v = vocab(&m);

    /* 1. the check: every id's logits from the empty state */
    f = fopen(argv[2], "rb");
    if (!f) die("cannot open the ids");
    fseek(f, 0, SEEK_END);
    const long count = ftell(f) / 4;
    fseek(f, 0, SEEK_SET);
    int32_t *ids = malloc(4 * (count ? count : 1));
    if (fread(ids, 4, count, f) != (size_t)count) die("ids truncated");
    fclose(f);
    for (long t = 0; t < count; t++)
        if (ids[t] < 0 || ids[t] >= v) die("an id outside the vocabulary");
    if (token < 0 || token >= v || seed > count) die("bad timing arguments");
    float *logits = zeros((size_t)v * (count ? count : 1));
    reset(&m);
    for (long t = 0; t < count; t++) step(&m, ids[t], logits + (size_t)t * v);
    FILE *out = fopen(argv[3], "wb");
    if (!out || fwrite(logits, 4, (size_t)v * count, out) != (size_t)v * count) die("cannot write");
    fclose(out);

    /* 2. the timing: SEED ids, then STEPS steps of TOKEN from that state, best of REPEATS */
    if (repeats <= 0 || steps <= 0) return 0;
    reset(&m);
    for (int t = 0; t < seed; t++) step(&m, ids[t], logits);
    Saved saved = save(&m);
    double best = -1.0;  /* no infinities: -ffinite-math-only (see bench_floor.py's FLAGS) */
    for (int r = 0; r <= repeats; r++) {  /* r = 0: the warm-up */
        const double start = thread_seconds();
        copy_state(&m, &saved, 1);
        for (int s = 0; s < steps; s++) step(&m, token, logits);
        const double seconds = thread_seconds() - start;
        if (r > 0 && (best < 0 || seconds < best)) best = seconds;
    }
    double checksum = 0.0;
    for (int j = 0; j < v; j++) checksum += logits[j];
    printf("%.9g %.9g\n", best / steps, checksum);
    return 0;
}
