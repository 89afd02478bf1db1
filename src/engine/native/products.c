/*
 * The engine's hot kernels in native code, for the machines where
 * WebAssembly's 128-bit SIMD leaves most of the core unused: AVX-512 (16
 * floats per FMA), AVX2 + FMA (8), or portable C elsewhere. They are the
 * three matrix products of the Kernels interface,
 *
 *   kind 0  out[M,N] (+)= a[M,K] · b[K,N]
 *   kind 1  out[M,N] (+)= a[M,K] · b[N,K]ᵀ
 *   kind 2  out[M,N] (+)= a[K,M]ᵀ · b[K,N]
 *
 * (b packed per call, or once for many calls), Adam/AdamW and the clipping
 * norm with the TypeScript optimizer's bits, and gpt's causal attention.
 *
 * One blocked loop serves the three products: b is packed, KC rows by one
 * panel of NR columns at a time, into a contiguous buffer (the packing is
 * where the layouts differ), and a register-tiled micro-kernel forms MR rows
 * × NR columns of out with the rows of a broadcast from their own layout.
 *
 * Every element of out is one chain of fused multiply-adds over k in a fixed
 * order (KC blocks, each starting from the value out holds), whatever the
 * thread count or split: threads take whole panels of columns (or whole
 * tiles of rows for narrow outputs), so any split gives the same bits.
 *
 * Threads: a pool of pthreads shared by every JavaScript thread of the
 * process. The calling thread computes its own part; a product that finds the
 * pool busy (another JS thread's product) runs on its caller alone.
 */
#define _GNU_SOURCE /* dladdr */
#define NAPI_VERSION 8
#include <node_api.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define RNNLAB_X86 1
#endif

typedef struct {
  float *out;
  const float *a;
  const float *b;
  int M, N, K;
  /* Element (i, k) of a is a[i*ai + k*ak]; (k, j) of b is b[k*bk + j*bj]; out's rows are ldo apart. */
  long ai, ak, bk, bj, ldo;
  int acc;
  /* b already packed (pack_all's layout), or NULL: packed per block as the product goes. */
  const float *packed;
} Product;

/* Rows of b packed at a time: a panel of KC × NR floats stays in L1/L2 while every row tile passes. */
#define KC 256
/* Rows of out per block: an MC × KC block of a stays in L2. */
#define MC 240
#define MR 6
#define NR_MAX 64

typedef void (*PanelKernel)(const Product *p, int i0, int i1, int j0, int nr, int k0, int kc, int load, const float *pack);

typedef void (*DotKernel)(const Product *p);

typedef struct {
  const char *name;
  int nr;
  PanelKernel panel;
  DotKernel dot;
} Isa;

/* Packs b[k0 .. k0+kc, j0 .. j0+nr) as kc rows of NR floats, zero beyond nr. */
static void pack_b(const Product *p, int k0, int kc, int j0, int nr, int NR, float *dst) {
  if (p->bj == 1) {
    for (int k = 0; k < kc; k++) {
      const float *src = p->b + (long)(k0 + k) * p->bk + j0;
      float *d = dst + (long)k * NR;
      memcpy(d, src, (size_t)nr * sizeof(float));
      for (int j = nr; j < NR; j++) d[j] = 0.0f;
    }
    return;
  }
  for (int j = 0; j < NR; j++) {
    if (j < nr) {
      const float *src = p->b + (long)(j0 + j) * p->bj + (long)k0 * p->bk;
      for (int k = 0; k < kc; k++) dst[(long)k * NR + j] = src[(long)k * p->bk];
    } else {
      for (int k = 0; k < kc; k++) dst[(long)k * NR + j] = 0.0f;
    }
  }
}

/*
 * The portable micro-kernel: R rows × 16 columns, written so that a compiler
 * vectorizes the column loop (NEON on arm64).
 */
#define NR_C 16
static inline __attribute__((always_inline)) void tile_c(const int R, const Product *p, int i, int j0, int nr, int k0, int kc, int load, const float *pack) {
  float c[MR][NR_C];
  float *out = p->out + (long)i * p->ldo + j0;
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NR_C; j++) c[r][j] = load && j < nr ? out[r * p->ldo + j] : 0.0f;
  const float *a = p->a + (long)i * p->ai + (long)k0 * p->ak;
  for (int k = 0; k < kc; k++) {
    const float *bp = pack + (long)k * NR_C;
    for (int r = 0; r < R; r++) {
      const float x = a[r * p->ai + (long)k * p->ak];
      for (int j = 0; j < NR_C; j++) c[r][j] = __builtin_fmaf(x, bp[j], c[r][j]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < nr; j++) out[r * p->ldo + j] = c[r][j];
}

static void panel_c(const Product *p, int i0, int i1, int j0, int nr, int k0, int kc, int load, const float *pack) {
  int i = i0;
  for (; i + MR <= i1; i += MR) tile_c(MR, p, i, j0, nr, k0, kc, load, pack);
  switch (i1 - i) {
    case 5: tile_c(5, p, i, j0, nr, k0, kc, load, pack); break;
    case 4: tile_c(4, p, i, j0, nr, k0, kc, load, pack); break;
    case 3: tile_c(3, p, i, j0, nr, k0, kc, load, pack); break;
    case 2: tile_c(2, p, i, j0, nr, k0, kc, load, pack); break;
    case 1: tile_c(1, p, i, j0, nr, k0, kc, load, pack); break;
    default: break;
  }
}

#ifdef RNNLAB_X86
/*
 * AVX-512: R rows × 64 columns in R·4 zmm accumulators (24 of the 32), four
 * loads of the packed panel and R broadcasts of a per k.
 */
#define AVX512_ATTR __attribute__((target("avx512f,fma")))
static inline __attribute__((always_inline)) AVX512_ATTR void tile_512(const int R, const int colA, const Product *p, int i, int j0, int nr, int k0, int kc, int load, const float *pack) {
  __mmask16 m[4];
  for (int v = 0; v < 4; v++) {
    const int rem = nr - 16 * v;
    m[v] = rem >= 16 ? (__mmask16)0xFFFF : rem <= 0 ? (__mmask16)0 : (__mmask16)((1u << rem) - 1u);
  }
  float *out = p->out + (long)i * p->ldo + j0;
  __m512 c[MR][4];
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) c[r][v] = load ? _mm512_maskz_loadu_ps(m[v], out + r * p->ldo + 16 * v) : _mm512_setzero_ps();
  }
  const long ai = p->ai, ak = p->ak;
  const float *a = p->a + (long)i * ai + (long)k0 * ak;
  const float *bp = pack;
  for (int k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), b2 = _mm512_loadu_ps(bp + 32), b3 = _mm512_loadu_ps(bp + 48);
    bp += 64;
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      /* colA: a's rows are its columns (kind 2), so a row tile's values at k sit side by side. */
      const __m512 x = _mm512_set1_ps(colA ? a[r] : a[r * ai]);
      c[r][0] = _mm512_fmadd_ps(x, b0, c[r][0]);
      c[r][1] = _mm512_fmadd_ps(x, b1, c[r][1]);
      c[r][2] = _mm512_fmadd_ps(x, b2, c[r][2]);
      c[r][3] = _mm512_fmadd_ps(x, b3, c[r][3]);
    }
    a += colA ? ak : 1;
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) _mm512_mask_storeu_ps(out + r * p->ldo + 16 * v, m[v], c[r][v]);
  }
}

#define ROW_TILES(TILE, COLA)                                                            \
  int i = i0;                                                                            \
  for (; i + MR <= i1; i += MR) TILE(MR, COLA, p, i, j0, nr, k0, kc, load, pack);        \
  switch (i1 - i) {                                                                      \
    case 5: TILE(5, COLA, p, i, j0, nr, k0, kc, load, pack); break;                      \
    case 4: TILE(4, COLA, p, i, j0, nr, k0, kc, load, pack); break;                      \
    case 3: TILE(3, COLA, p, i, j0, nr, k0, kc, load, pack); break;                      \
    case 2: TILE(2, COLA, p, i, j0, nr, k0, kc, load, pack); break;                      \
    case 1: TILE(1, COLA, p, i, j0, nr, k0, kc, load, pack); break;                      \
    default: break;                                                                      \
  }

/* An instruction set's panel: its row tiles, with a's values read along rows or (kind 2) along columns. */
#define PANELS(ATTR, TILE, NAME)                                                                                          \
  ATTR static void NAME##_rows(const Product *p, int i0, int i1, int j0, int nr, int k0, int kc, int load, const float *pack) { \
    ROW_TILES(TILE, 0)                                                                                                      \
  }                                                                                                                         \
  ATTR static void NAME##_cols(const Product *p, int i0, int i1, int j0, int nr, int k0, int kc, int load, const float *pack) { \
    ROW_TILES(TILE, 1)                                                                                                      \
  }                                                                                                                         \
  ATTR static void NAME(const Product *p, int i0, int i1, int j0, int nr, int k0, int kc, int load, const float *pack) {        \
    if (p->ai == 1) NAME##_cols(p, i0, i1, j0, nr, k0, kc, load, pack);                                                     \
    else NAME##_rows(p, i0, i1, j0, nr, k0, kc, load, pack);                                                                \
  }

PANELS(AVX512_ATTR, tile_512, panel_512)

/* AVX2 + FMA: R rows × 16 columns in R·2 ymm accumulators. */
#define AVX2_ATTR __attribute__((target("avx2,fma")))
static inline __attribute__((always_inline)) AVX2_ATTR void tile_256(const int R, const int colA, const Product *p, int i, int j0, int nr, int k0, int kc, int load, const float *pack) {
  float *out = p->out + (long)i * p->ldo + j0;
  __m256 c[MR][2];
  /* Partial panels go through a 16-float staging row: AVX2 has no masked loads of arbitrary width that are as simple. */
  float stage[MR][16] __attribute__((aligned(32)));
  const int full = nr == 16;
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) {
    if (!load) { c[r][0] = _mm256_setzero_ps(); c[r][1] = _mm256_setzero_ps(); continue; }
    if (full) { c[r][0] = _mm256_loadu_ps(out + r * p->ldo); c[r][1] = _mm256_loadu_ps(out + r * p->ldo + 8); continue; }
    for (int j = 0; j < 16; j++) stage[r][j] = j < nr ? out[r * p->ldo + j] : 0.0f;
    c[r][0] = _mm256_load_ps(stage[r]);
    c[r][1] = _mm256_load_ps(stage[r] + 8);
  }
  const long ai = p->ai, ak = p->ak;
  const float *a = p->a + (long)i * ai + (long)k0 * ak;
  const float *bp = pack;
  for (int k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
    bp += 16;
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      const __m256 x = _mm256_set1_ps(colA ? a[r] : a[r * ai]);
      c[r][0] = _mm256_fmadd_ps(x, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(x, b1, c[r][1]);
    }
    a += colA ? ak : 1;
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) {
    if (full) { _mm256_storeu_ps(out + r * p->ldo, c[r][0]); _mm256_storeu_ps(out + r * p->ldo + 8, c[r][1]); continue; }
    _mm256_store_ps(stage[r], c[r][0]);
    _mm256_store_ps(stage[r] + 8, c[r][1]);
    for (int j = 0; j < nr; j++) out[r * p->ldo + j] = stage[r][j];
  }
}

PANELS(AVX2_ATTR, tile_256, panel_256)
#endif

/*
 * a·bᵀ over a few rows (inference: one character at a time) as dot products
 * along k, both operands read where they are: packing b (N·K moves) would
 * cost as much as the product itself.
 */
static void dot_c(const Product *p) {
  for (int i = 0; i < p->M; i++) {
    const float *a = p->a + (long)i * p->ai;
    for (int j = 0; j < p->N; j++) {
      const float *b = p->b + (long)j * p->bj;
      float s = 0.0f;
      for (int k = 0; k < p->K; k++) s = __builtin_fmaf(a[k], b[k], s);
      float *o = p->out + (long)i * p->ldo + j;
      *o = p->acc ? *o + s : s;
    }
  }
}

#ifdef RNNLAB_X86
AVX512_ATTR static void dot_512(const Product *p) {
  const int K = p->K, K16 = K & ~15;
  const __mmask16 tail = (__mmask16)((1u << (K - K16)) - 1u);
  for (int i = 0; i < p->M; i++) {
    const float *a = p->a + (long)i * p->ai;
    float *o = p->out + (long)i * p->ldo;
    int j = 0;
    for (; j + 4 <= p->N; j += 4) {
      const float *b0 = p->b + (long)j * p->bj, *b1 = b0 + p->bj, *b2 = b1 + p->bj, *b3 = b2 + p->bj;
      __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
      int k = 0;
      for (; k < K16; k += 16) {
        const __m512 x = _mm512_loadu_ps(a + k);
        c0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b0 + k), c0);
        c1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b1 + k), c1);
        c2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b2 + k), c2);
        c3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b3 + k), c3);
      }
      if (tail) {
        const __m512 x = _mm512_maskz_loadu_ps(tail, a + k);
        c0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tail, b0 + k), c0);
        c1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tail, b1 + k), c1);
        c2 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tail, b2 + k), c2);
        c3 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tail, b3 + k), c3);
      }
      const float s0 = _mm512_reduce_add_ps(c0), s1 = _mm512_reduce_add_ps(c1), s2 = _mm512_reduce_add_ps(c2), s3 = _mm512_reduce_add_ps(c3);
      if (p->acc) { o[j] += s0; o[j + 1] += s1; o[j + 2] += s2; o[j + 3] += s3; }
      else { o[j] = s0; o[j + 1] = s1; o[j + 2] = s2; o[j + 3] = s3; }
    }
    for (; j < p->N; j++) {
      const float *b0 = p->b + (long)j * p->bj;
      __m512 c0 = _mm512_setzero_ps();
      int k = 0;
      for (; k < K16; k += 16) c0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b0 + k), c0);
      if (tail) c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, a + k), _mm512_maskz_loadu_ps(tail, b0 + k), c0);
      const float s0 = _mm512_reduce_add_ps(c0);
      o[j] = p->acc ? o[j] + s0 : s0;
    }
  }
}

AVX2_ATTR static inline float hsum256(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

AVX2_ATTR static void dot_256(const Product *p) {
  const int K = p->K, K8 = K & ~7;
  for (int i = 0; i < p->M; i++) {
    const float *a = p->a + (long)i * p->ai;
    float *o = p->out + (long)i * p->ldo;
    for (int j = 0; j < p->N; j++) {
      const float *b = p->b + (long)j * p->bj;
      __m256 c = _mm256_setzero_ps();
      int k = 0;
      for (; k < K8; k += 8) c = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), c);
      float s = hsum256(c);
      for (; k < K; k++) s = __builtin_fmaf(a[k], b[k], s);
      o[j] = p->acc ? o[j] + s : s;
    }
  }
}
#endif

static const Isa ISA_C = {"c", NR_C, panel_c, dot_c};
#ifdef RNNLAB_X86
static const Isa ISA_AVX512 = {"avx512", 64, panel_512, dot_512};
static const Isa ISA_AVX2 = {"avx2", 16, panel_256, dot_256};
#endif

static const Isa *isa = &ISA_C;

static void choose_isa(void) {
  const char *force = getenv("RNN_LAB_NATIVE_ISA");
#ifdef RNNLAB_X86
  __builtin_cpu_init();
  const int has512 = __builtin_cpu_supports("avx512f");
  const int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (force && strcmp(force, "c") == 0) isa = &ISA_C;
  else if (force && strcmp(force, "avx2") == 0 && has2) isa = &ISA_AVX2;
  else if (has512) isa = &ISA_AVX512;
  else if (has2) isa = &ISA_AVX2;
  else isa = &ISA_C;
#else
  (void)force;
  isa = &ISA_C;
#endif
}

/* The pack buffer of the calling thread (grown once, freed when the thread exits: JS worker threads come and go). */
static _Thread_local float *pack_buf = NULL;
static pthread_key_t pack_key;
static pthread_once_t pack_key_once = PTHREAD_ONCE_INIT;

static void make_pack_key(void) { pthread_key_create(&pack_key, free); }

static float *thread_pack(void) {
  if (!pack_buf) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (size_t)KC * NR_MAX * sizeof(float)) != 0) return NULL;
    pthread_once(&pack_key_once, make_pack_key);
    pthread_setspecific(pack_key, p);
    pack_buf = (float *)p;
  }
  return pack_buf;
}

/* out[i0..i1, j0..j1) over all of K. */
static void compute(const Product *p, int i0, int i1, int j0, int j1) {
  float *pack = thread_pack();
  if (!pack) abort();
  const int NR = isa->nr;
  for (int k0 = 0; k0 < p->K; k0 += KC) {
    const int kc = p->K - k0 < KC ? p->K - k0 : KC;
    const int load = p->acc || k0 > 0;
    for (int m0 = i0; m0 < i1; m0 += MC) {
      const int m1 = i1 - m0 < MC ? i1 : m0 + MC;
      for (int j = j0; j < j1; j += NR) {
        const int nr = j1 - j < NR ? j1 - j : NR;
        const float *panel = pack;
        if (p->packed) panel = p->packed + ((long)(k0 / KC) * ((p->N + NR - 1) / NR) + j / NR) * KC * NR;
        else pack_b(p, k0, kc, j, nr, NR, pack);
        isa->panel(p, m0, m1, j, nr, k0, kc, load, panel);
      }
    }
  }
  if (p->K == 0 && !p->acc)
    for (int i = i0; i < i1; i++) memset(p->out + (long)i * p->ldo + j0, 0, (size_t)(j1 - j0) * sizeof(float));
}

/*
 * A b used by many products (a recurrent weight over the time steps), packed
 * once: every K block's panels, KC × NR floats each, after a header of four
 * ints (a tag, N, K, NR) that products check it against.
 */
#define PACK_HEADER 4
#define PACK_TAG 0x524e4e4c

static long packed_floats(int N, int K) {
  const int NR = isa->nr;
  return PACK_HEADER + (long)((K + KC - 1) / KC) * ((N + NR - 1) / NR) * KC * NR;
}

static void pack_all(const Product *p, float *dst) {
  const int NR = isa->nr, panels = (p->N + NR - 1) / NR;
  int32_t *head = (int32_t *)dst;
  head[0] = PACK_TAG; head[1] = p->N; head[2] = p->K; head[3] = NR;
  float *body = dst + PACK_HEADER;
  for (int k0 = 0; k0 < p->K; k0 += KC) {
    const int kc = p->K - k0 < KC ? p->K - k0 : KC;
    for (int jp = 0; jp < panels; jp++) {
      const int j = jp * NR, nr = p->N - j < NR ? p->N - j : NR;
      pack_b(p, k0, kc, j, nr, NR, body + ((long)(k0 / KC) * panels + jp) * KC * NR);
    }
  }
}

/* ---- the pool ---- */

#define MAX_THREADS 16
/* Pause-spins before a worker sleeps: covers the gap between a step's products (tens of µs). */
#ifndef WORKER_SPINS
#define WORKER_SPINS 2000
#endif

/*
 * A product is cut into chunks (whole panels of columns, or whole tiles of
 * rows) that the caller and the workers claim one at a time, so a worker that
 * the OS has descheduled (another program on the core) delays the product by
 * at most its one chunk instead of half the product.
 */
typedef void (*RangeFn)(const void *ctx, int s, int e);

typedef struct {
  RangeFn fn;
  const void *ctx;
  int span, unit, per, chunks;
} Job;

/* Two slots: a late worker can still read the previous product's while the next is posted. */
static Job slots[2];
/* The posted product's generation (high 32 bits) and its next unclaimed chunk (low 32). */
static _Atomic uint64_t claim = 0;
static atomic_int finished = 0;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
static int sleepers = 0;
static int workers = 0;

static inline void cpu_relax(void) {
#ifdef RNNLAB_X86
  _mm_pause();
#endif
}

static void run_chunk(const Job *jb, int c) {
  const int s = c * jb->per * jb->unit;
  const int e = c == jb->chunks - 1 ? jb->span : s + jb->per * jb->unit;
  jb->fn(jb->ctx, s, e);
}

/* Claims and runs chunks of generation g until none is left (or a newer product was posted). */
static void work_on(uint32_t g) {
  const Job *jb = &slots[g & 1];
  for (;;) {
    uint64_t w = atomic_load_explicit(&claim, memory_order_acquire);
    if ((uint32_t)(w >> 32) != g || (int)(uint32_t)w >= jb->chunks) return;
    if (!atomic_compare_exchange_weak_explicit(&claim, &w, w + 1, memory_order_acq_rel, memory_order_relaxed)) continue;
    run_chunk(jb, (int)(uint32_t)w);
    atomic_fetch_add_explicit(&finished, 1, memory_order_release);
  }
}

static void *worker_main(void *arg) {
  uint32_t seen = (uint32_t)(uintptr_t)arg;
  for (;;) {
    uint32_t g;
    int spins = 0;
    while ((g = (uint32_t)(atomic_load_explicit(&claim, memory_order_acquire) >> 32)) == seen) {
      if (++spins < WORKER_SPINS) { cpu_relax(); continue; }
      pthread_mutex_lock(&sleep_lock);
      sleepers++;
      while ((g = (uint32_t)(atomic_load_explicit(&claim, memory_order_acquire) >> 32)) == seen) pthread_cond_wait(&sleep_cond, &sleep_lock);
      sleepers--;
      pthread_mutex_unlock(&sleep_lock);
      break;
    }
    seen = g;
    work_on(g);
  }
  return NULL;
}

/* Grows the pool to n workers (under pool_lock); returns how many there are. */
static int ensure_workers(int n) {
  while (workers < n && workers < MAX_THREADS - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const uint32_t g = (uint32_t)(atomic_load(&claim) >> 32);
    const int ok = pthread_create(&t, &attr, worker_main, (void *)(uintptr_t)g) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    workers++;
  }
  return workers;
}

/* Chunks per thread: small enough to rebalance, large enough that packing b stays a small cost. */
#define CHUNKS_PER_THREAD 4

/*
 * Runs fn over [0, span) cut into chunks of whole units (at least minUnits
 * each) on up to `parts` threads, the caller among them; on the caller alone
 * when parts is 1 or another JavaScript thread holds the pool.
 */
static void run_parallel(RangeFn fn, const void *ctx, int span, int unit, int parts, int minUnits) {
  const int units = span / unit;
  if (parts > MAX_THREADS) parts = MAX_THREADS;
  if (parts > units) parts = units;
  if (parts <= 1 || pthread_mutex_trylock(&pool_lock) != 0) {
    fn(ctx, 0, span);
    return;
  }
  ensure_workers(parts - 1);
  int per = units / (parts * CHUNKS_PER_THREAD);
  if (per < minUnits) per = minUnits;
  if (per < 1) per = 1;
  const uint32_t g = (uint32_t)(atomic_load(&claim) >> 32) + 1;
  Job *jb = &slots[g & 1];
  jb->fn = fn; jb->ctx = ctx; jb->span = span; jb->unit = unit; jb->per = per;
  jb->chunks = (units + per - 1) / per;
  if (jb->chunks < 1) jb->chunks = 1;
  if ((jb->chunks - 1) * per * unit >= span) jb->chunks--;
  atomic_store_explicit(&finished, 0, memory_order_relaxed);
  pthread_mutex_lock(&sleep_lock);
  atomic_store_explicit(&claim, (uint64_t)g << 32, memory_order_release);
  if (sleepers) pthread_cond_broadcast(&sleep_cond);
  pthread_mutex_unlock(&sleep_lock);
  work_on(g);
  while (atomic_load_explicit(&finished, memory_order_acquire) < jb->chunks) cpu_relax();
  pthread_mutex_unlock(&pool_lock);
}

/* Multiply-adds below which a product runs on its caller alone (a split costs some µs). */
#define SPLIT_MIN_MACS (1L << 21)
/* Rows up to which a·bᵀ runs as dot products (one thread): below this, packing b costs more than it saves. */
#define DOT_MAX_ROWS 8

static void product_cols(const void *ctx, int s, int e) {
  const Product *p = (const Product *)ctx;
  compute(p, 0, p->M, s, e);
}

static void product_rows(const void *ctx, int s, int e) {
  const Product *p = (const Product *)ctx;
  compute(p, s, e, 0, p->N);
}

static void product(const Product *p, int threads) {
  if (p->M <= 0 || p->N <= 0) return;
  if (!p->packed && p->ak == 1 && p->bk == 1 && p->M <= DOT_MAX_ROWS && p->K > 0) {
    isa->dot(p);
    return;
  }
  const long macs = (long)p->M * p->N * (p->K > 0 ? p->K : 1);
  const int NR = isa->nr;
  const int parts = macs < SPLIT_MIN_MACS ? 1 : threads;
  /* Whole panels of columns where there are enough; else whole row tiles, at least 48 rows a chunk (b is packed once per chunk). */
  if (p->N >= 2 * NR) run_parallel(product_cols, p, p->N, NR, parts, 1);
  else run_parallel(product_rows, p, p->M, MR, parts, 48 / MR);
}

/* ---- Adam/AdamW ---- */

/*
 * The TypeScript optimizer's operations (src/engine/optim.ts) in the same
 * order in double precision, rounded to float where it stores: the same
 * bits (the build turns off FMA contraction). Elementwise, so any split too.
 */
typedef struct {
  float *p, *m, *v;
  const float *g;
  double b1, c1, b2, c2, step, bc2, eps, shrink, l2;
} Adam;

static inline __attribute__((always_inline)) void adam_body(const void *ctx, int s, int e) {
  const Adam *a = (const Adam *)ctx;
  float *restrict p = a->p, *restrict m = a->m, *restrict v = a->v;
  const float *restrict g = a->g;
  const double b1 = a->b1, c1 = a->c1, b2 = a->b2, c2 = a->c2, step = a->step, bc2 = a->bc2, eps = a->eps, shrink = a->shrink, l2 = a->l2;
  for (int i = s; i < e; i++) {
    const double ps = (double)(float)((double)p[i] * shrink);
    const double d = (double)g[i] + l2 * ps;
    const float m32 = (float)(b1 * (double)m[i] + c1 * d);
    const float v32 = (float)(b2 * (double)v[i] + c2 * d * d);
    m[i] = m32;
    v[i] = v32;
    p[i] = (float)(ps - (step * (double)m32) / (__builtin_sqrt((double)v32) / bc2 + eps));
  }
}

static void adam_range(const void *ctx, int s, int e) { adam_body(ctx, s, e); }
#ifdef RNNLAB_X86
__attribute__((target("avx512f"))) static void adam_range_512(const void *ctx, int s, int e) { adam_body(ctx, s, e); }
__attribute__((target("avx2"))) static void adam_range_256(const void *ctx, int s, int e) { adam_body(ctx, s, e); }
#endif

/* Elements below which Adam runs on its caller alone. */
#define ADAM_SPLIT_MIN (1 << 16)

static void adam(Adam *a, int n, int threads) {
  RangeFn fn = adam_range;
#ifdef RNNLAB_X86
  if (isa == &ISA_AVX512) fn = adam_range_512;
  else if (isa == &ISA_AVX2) fn = adam_range_256;
#endif
  run_parallel(fn, a, n, 64, n < ADAM_SPLIT_MIN ? 1 : threads, 1);
}

/* ---- gpt's causal self-attention (AVX-512 only; elsewhere the wasm kernels run it) ---- */

/*
 * On the c_attn output [T·B, 3C] as it is (row t·B + b: q, k, v side by
 * side, head h at columns h·hs of each), as models/gpt/kernels.as does:
 * y [T·B, C] in the same layout, P [B·heads, T, T] the softmax weights.
 * Each (batch row, head) pair is independent: threads take whole pairs.
 */
typedef struct {
  const float *qkv, *dy, *P;
  float *y, *Pw, *dqkv;
  int T, B, C, heads;
} Attention;

#ifdef RNNLAB_X86
static inline __mmask16 mask_upto(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

/* e^x for x ≤ 0 (scores less their max): Cody–Waite reduction and a degree-6 polynomial, within 2 ulp; e^x = 0 below -87. */
static inline AVX512_ATTR __m512 exp512(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.33654f);
  const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_max_ps(x, lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps((__mmask16)~under, _mm512_scalef_ps(p, n));
}

/* One pair's product through the blocked kernel on this thread (packing b as it goes). */
static void pair_product(float *out, long ldo, const float *a, long ai, long ak, const float *b, long bk, long bj, int M, int N, int K) {
  Product p;
  memset(&p, 0, sizeof p);
  p.out = out; p.ldo = ldo; p.a = a; p.ai = ai; p.ak = ak; p.b = b; p.bk = bk; p.bj = bj;
  p.M = M; p.N = N; p.K = K;
  compute(&p, 0, M, 0, N);
}

/*
 * Scores, softmax and the weighted values of each pair as products of the
 * blocked kernel (the full T × T square: the causal half costs less through
 * the tiles than by dot products), the masked half zeroed.
 */
static AVX512_ATTR void attn_fwd_pairs(const void *ctx, int bh0, int bh1) {
  const Attention *a = (const Attention *)ctx;
  const int T = a->T, B = a->B, C = a->C, heads = a->heads, hs = C / heads;
  const float scale = 1.0f / __builtin_sqrtf((float)hs);
  const long rowQ = (long)B * 3 * C, rowY = (long)B * C;
  for (int bh = bh0; bh < bh1; bh++) {
    const int b = bh / heads, h = bh % heads;
    const float *q0 = a->qkv + (long)b * 3 * C + (long)h * hs, *k0 = q0 + C, *v0 = k0 + C;
    float *y0 = a->y + (long)b * C + (long)h * hs;
    float *p0 = a->Pw + (long)bh * T * T;
    pair_product(p0, T, q0, rowQ, 1, k0, 1, rowQ, T, T, hs);
    const __m512 vs = _mm512_set1_ps(scale);
    for (int t = 0; t < T; t++) {
      float *pt = p0 + (long)t * T;
      const int n = t + 1;
      __m512 vmax = _mm512_set1_ps(-__builtin_inff());
      for (int s = 0; s < n; s += 16) {
        const __mmask16 m = mask_upto(n - s);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, pt + s), vs);
        _mm512_mask_storeu_ps(pt + s, m, v);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
      }
      const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
      __m512 vsum = _mm512_setzero_ps();
      for (int s = 0; s < n; s += 16) {
        const __mmask16 m = mask_upto(n - s);
        const __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, pt + s), mx)));
        _mm512_mask_storeu_ps(pt + s, m, e);
        vsum = _mm512_add_ps(vsum, e);
      }
      const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
      for (int s = 0; s < n; s += 16) {
        const __mmask16 m = mask_upto(n - s);
        _mm512_mask_storeu_ps(pt + s, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, pt + s), inv));
      }
      if (n < T) memset(pt + n, 0, (size_t)(T - n) * sizeof(float));
    }
    pair_product(y0, rowY, p0, T, 1, v0, rowQ, 1, T, hs, T);
  }
}

/* ∂/∂ the scores of one pair: T·T floats per thread, grown once. */
static _Thread_local float *scores_buf = NULL;
static _Thread_local size_t scores_len = 0;

static AVX512_ATTR void attn_bwd_pairs(const void *ctx, int bh0, int bh1) {
  const Attention *a = (const Attention *)ctx;
  const int T = a->T, B = a->B, C = a->C, heads = a->heads, hs = C / heads;
  const float scale = 1.0f / __builtin_sqrtf((float)hs);
  const long rowQ = (long)B * 3 * C, rowY = (long)B * C;
  if (scores_len < (size_t)T * T) {
    free(scores_buf);
    scores_buf = (float *)malloc((size_t)T * T * sizeof(float));
    if (!scores_buf) abort();
    scores_len = (size_t)T * T;
  }
  float *dS = scores_buf;
  for (int bh = bh0; bh < bh1; bh++) {
    const int b = bh / heads, h = bh % heads;
    const long off = (long)b * 3 * C + (long)h * hs;
    const float *q0 = a->qkv + off, *k0 = q0 + C, *v0 = k0 + C;
    float *dq0 = a->dqkv + off, *dk0 = dq0 + C, *dv0 = dk0 + C;
    const float *dy0 = a->dy + (long)b * C + (long)h * hs;
    const float *p0 = a->P + (long)bh * T * T;
    // ∂/∂P = dy·vᵀ, then through the softmax: dS = scale·P·(dP - Σ_s P dP) (zero where P is).
    pair_product(dS, T, dy0, rowY, 1, v0, 1, rowQ, T, T, hs);
    const __m512 vs = _mm512_set1_ps(scale);
    for (int t = 0; t < T; t++) {
      const float *pt = p0 + (long)t * T;
      float *st = dS + (long)t * T;
      const int n = t + 1;
      __m512 vd = _mm512_setzero_ps();
      for (int s = 0; s < n; s += 16) {
        const __mmask16 m = mask_upto(n - s);
        vd = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, pt + s), _mm512_maskz_loadu_ps(m, st + s), vd);
      }
      const __m512 d = _mm512_set1_ps(_mm512_reduce_add_ps(vd));
      for (int s = 0; s < n; s += 16) {
        const __mmask16 m = mask_upto(n - s);
        const __m512 ps = _mm512_maskz_loadu_ps(m, pt + s);
        _mm512_mask_storeu_ps(st + s, m, _mm512_mul_ps(_mm512_mul_ps(vs, ps), _mm512_sub_ps(_mm512_maskz_loadu_ps(m, st + s), d)));
      }
      if (n < T) memset(st + n, 0, (size_t)(T - n) * sizeof(float));
    }
    pair_product(dq0, rowQ, dS, T, 1, k0, rowQ, 1, T, hs, T);
    pair_product(dk0, rowQ, dS, 1, T, q0, rowQ, 1, T, hs, T);
    pair_product(dv0, rowQ, p0, 1, T, dy0, rowY, 1, T, hs, T);
  }
}
#endif

/* Multiply-adds of attention below which it runs on its caller alone. */
#define ATTN_SPLIT_MIN (1L << 20)

/* Whether this build and CPU run the AVX-512-only kernels (attention, GELU); the caller keeps its own kernels otherwise. */
static int avx512_native(void) {
#ifdef RNNLAB_X86
  return isa == &ISA_AVX512;
#else
  return 0;
#endif
}

static void attention(Attention *a, int backward, int threads) {
#ifdef RNNLAB_X86
  const int pairs = a->B * a->heads;
  const long macs = (long)pairs * a->T * a->T * a->C / a->heads;
  run_parallel(backward ? attn_bwd_pairs : attn_fwd_pairs, a, pairs, 1, macs < ATTN_SPLIT_MIN ? 1 : threads, 1);
#else
  (void)a; (void)backward; (void)threads;
#endif
}

/*
 * ---- exact GELU on c_fc's output, models/blocks/kernels.as's arithmetic ----
 *
 * The same operations in the same order as the relaxed-SIMD wasm kernels
 * (their madd is a fused multiply-add on x86), sixteen lanes at a time: Φ from
 * Numerical Recipes' erfcc fit, e^x by Cephes' expf. So the bits are the wasm
 * kernels' (tested).
 */
#ifdef RNNLAB_X86
static inline __attribute__((always_inline)) AVX512_ATTR __m512 exp16(__m512 x0) {
  const __m512 x = _mm512_min_ps(_mm512_max_ps(x0, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  const __m512 shifted = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _mm512_set1_ps(12582912.f));
  const __m512 fx = _mm512_sub_ps(shifted, _mm512_set1_ps(12582912.f));
  __m512 r = _mm512_fmadd_ps(fx, _mm512_set1_ps(-0.693359375f), x);
  r = _mm512_fmadd_ps(fx, _mm512_set1_ps(2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(_mm512_mul_ps(y, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  const __m512i pow2n = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000 - 127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(pow2n));
}

static inline __attribute__((always_inline)) AVX512_ATTR __m512 cdf16(__m512 x) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f));
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(z, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.f)));
  __m512 p = _mm512_set1_ps(0.17087277f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
  const __m512 q = _mm512_mul_ps(_mm512_mul_ps(t, _mm512_set1_ps(0.5f)), exp16(_mm512_sub_ps(p, _mm512_mul_ps(z, z))));
  const __mmask16 right = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
  return _mm512_mask_blend_ps(right, q, _mm512_sub_ps(_mm512_set1_ps(1.f), q));
}

typedef struct {
  float *out, *cdf, *a, *d;
  const float *bias;
  int cols;
} Gelu;

/* Rows [r0, r1): a += bias, cdf = Φ(a), out = a·Φ(a). */
static AVX512_ATTR void gelu_fwd_rows(const void *ctx, int r0, int r1) {
  const Gelu *g = (const Gelu *)ctx;
  const int cols = g->cols;
  for (long r = r0; r < r1; r++) {
    float *a = g->a + r * cols, *cdf = g->cdf + r * cols, *out = g->out + r * cols;
    for (int j = 0; j < cols; j += 16) {
      const __mmask16 m = cols - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - j)) - 1);
      const __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, g->bias + j));
      const __m512 c = cdf16(x);
      _mm512_mask_storeu_ps(a + j, m, x);
      _mm512_mask_storeu_ps(cdf + j, m, c);
      _mm512_mask_storeu_ps(out + j, m, _mm512_mul_ps(x, c));
    }
  }
}

/* Rows [r0, r1): d *= Φ(a) + a·φ(a) (the wasm kernel's scalar tail, past a multiple of 4, is unfused). */
static AVX512_ATTR void gelu_bwd_rows(const void *ctx, int r0, int r1) {
  const Gelu *g = (const Gelu *)ctx;
  const long s = (long)r0 * g->cols, n = (long)(r1 - r0) * g->cols, n4 = n & ~3L;
  float *d = g->d + s;
  const float *cdf = g->cdf + s, *a = g->a + s;
  for (long k = 0; k < n4; k += 16) {
    const __mmask16 m = n4 - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n4 - k)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, a + k);
    const __m512 pdf = _mm512_mul_ps(exp16(_mm512_mul_ps(_mm512_mul_ps(x, x), _mm512_set1_ps(-0.5f))), _mm512_set1_ps(0.3989422804014327f));
    const __m512 v = _mm512_fmadd_ps(x, pdf, _mm512_maskz_loadu_ps(m, cdf + k));
    _mm512_mask_storeu_ps(d + k, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, d + k), v));
  }
  for (long k = n4; k < n; k++) {
    const __m512 x = _mm512_set1_ps(a[k]);
    const float pdf = _mm512_cvtss_f32(_mm512_mul_ps(exp16(_mm512_mul_ps(_mm512_mul_ps(x, x), _mm512_set1_ps(-0.5f))), _mm512_set1_ps(0.3989422804014327f)));
    d[k] = d[k] * (cdf[k] + a[k] * pdf);
  }
}
#endif

/* Elements of GELU below which it runs on its caller alone. */
#define GELU_SPLIT_MIN (1L << 15)

static void gelu(Gelu *g, int rows, int backward, int threads) {
#ifdef RNNLAB_X86
  run_parallel(backward ? gelu_bwd_rows : gelu_fwd_rows, g, rows, 1, (long)rows * g->cols < GELU_SPLIT_MIN ? 1 : threads, 1);
#else
  (void)g; (void)rows; (void)backward; (void)threads;
#endif
}

/* ---- the JavaScript binding ---- */

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* A Float32Array argument: its data (from its byte offset) and length in floats. */
static int float32_arg(napi_env env, napi_value v, float **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  void *d;
  if (napi_get_typedarray_info(env, v, &type, len, &d, NULL, NULL) != napi_ok || type != napi_float32_array) return 0;
  *data = (float *)d;
  return 1;
}

/* Whether floats [off, off + (rows-1)·ld + cols) lie inside an array of len floats. */
static int fits(size_t len, int64_t off, int64_t rows, int64_t cols, int64_t ld) {
  if (off < 0 || rows < 0 || cols < 0 || ld < 0) return 0;
  if (rows == 0 || cols == 0) return 1;
  if (cols > ld) return 0;
  return off + (rows - 1) * ld + cols <= (int64_t)len;
}

static int int_args(napi_env env, napi_value *argv, int from, int count, int64_t *out) {
  for (int i = 0; i < count; i++)
    if (napi_get_value_int64(env, argv[from + i], &out[i]) != napi_ok) return 0;
  return 1;
}

/* product(kind, out, outOff, a, aOff, b, bOff, M, N, K, lda, ldb, ldo, accumulate, threads) */
static napi_value js_product(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 15) return throw_range(env, "product takes 15 arguments");
  int64_t n[15];
  for (int i = 0; i < 15; i++) {
    if (i == 1 || i == 3 || i == 5) continue;
    if (napi_get_value_int64(env, argv[i], &n[i]) != napi_ok) return throw_range(env, "product: a size is not a number");
  }
  float *out, *a, *b;
  size_t lo, la, lb;
  if (!float32_arg(env, argv[1], &out, &lo) || !float32_arg(env, argv[3], &a, &la) || !float32_arg(env, argv[5], &b, &lb))
    return throw_range(env, "product: operands must be Float32Arrays");
  const int64_t kind = n[0], M = n[7], N = n[8], K = n[9], lda = n[10], ldb = n[11], ldo = n[12];
  if (M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || kind < 0 || kind > 2)
    return throw_range(env, "product: bad sizes");
  const int64_t aRows = kind == 2 ? K : M, aCols = kind == 2 ? M : K;
  const int64_t bRows = kind == 1 ? N : K, bCols = kind == 1 ? K : N;
  if (!fits(lo, n[2], M, N, ldo) || !fits(la, n[4], aRows, aCols, lda) || !fits(lb, n[6], bRows, bCols, ldb))
    return throw_range(env, "product: an operand is out of its array's bounds");
  Product p;
  p.out = out + n[2];
  p.a = a + n[4];
  p.b = b + n[6];
  p.M = (int)M; p.N = (int)N; p.K = (int)K;
  p.ldo = (long)ldo;
  p.acc = n[13] != 0;
  if (kind == 2) { p.ai = 1; p.ak = (long)lda; } else { p.ai = (long)lda; p.ak = 1; }
  if (kind == 1) { p.bk = 1; p.bj = (long)ldb; } else { p.bk = (long)ldb; p.bj = 1; }
  p.packed = NULL;
  product(&p, (int)n[14]);
  return NULL;
}

/* packedSize(N, K): the floats pack() writes for a b of N columns and K rows (this machine's panel width). */
static napi_value js_packed_size(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t n[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !int_args(env, argv, 0, 2, n) || n[0] < 1 || n[1] < 1 || n[0] > INT32_MAX || n[1] > INT32_MAX)
    return throw_range(env, "packedSize takes N and K");
  napi_value out;
  napi_create_double(env, (double)packed_floats((int)n[0], (int)n[1]), &out);
  return out;
}

/* pack(kind, b, bOff, N, K, ldb, dst): b as the b of product(kind, ...) (kind 0 or 2: b[K,N]; 1: b[N,K]), packed into dst. */
static napi_value js_pack(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7) return throw_range(env, "pack takes 7 arguments");
  float *b, *dst;
  size_t lb, ld;
  int64_t kind, n[4];
  if (!float32_arg(env, argv[1], &b, &lb) || !float32_arg(env, argv[6], &dst, &ld)) return throw_range(env, "pack: b and dst must be Float32Arrays");
  if (!int_args(env, argv, 0, 1, &kind) || !int_args(env, argv, 2, 4, n)) return throw_range(env, "pack: a size is not a number");
  const int64_t off = n[0], N = n[1], K = n[2], ldb = n[3];
  if (kind < 0 || kind > 2 || N < 1 || K < 1 || N > INT32_MAX || K > INT32_MAX) return throw_range(env, "pack: bad sizes");
  const int64_t rows = kind == 1 ? N : K, cols = kind == 1 ? K : N;
  if (!fits(lb, off, rows, cols, ldb) || (int64_t)ld < packed_floats((int)N, (int)K)) return throw_range(env, "pack: b or dst is out of its array's bounds");
  Product p;
  memset(&p, 0, sizeof p);
  p.b = b + off; p.N = (int)N; p.K = (int)K;
  if (kind == 1) { p.bk = 1; p.bj = (long)ldb; } else { p.bk = (long)ldb; p.bj = 1; }
  pack_all(&p, dst);
  return NULL;
}

/* productPacked(kind, out, outOff, a, aOff, packed, M, N, K, lda, ldo, accumulate, threads): product() with b from pack(). */
static napi_value js_product_packed(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13) return throw_range(env, "productPacked takes 13 arguments");
  float *out, *a, *packed;
  size_t lo, la, lp;
  int64_t kind, offs[2], n[7];
  if (!float32_arg(env, argv[1], &out, &lo) || !float32_arg(env, argv[3], &a, &la) || !float32_arg(env, argv[5], &packed, &lp))
    return throw_range(env, "productPacked: operands must be Float32Arrays");
  if (!int_args(env, argv, 0, 1, &kind) || !int_args(env, argv, 2, 1, &offs[0]) || !int_args(env, argv, 4, 1, &offs[1]) || !int_args(env, argv, 6, 7, n))
    return throw_range(env, "productPacked: a size is not a number");
  const int64_t M = n[0], N = n[1], K = n[2], lda = n[3], ldo = n[4];
  if (kind < 0 || kind > 2 || M < 0 || N < 1 || K < 1 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) return throw_range(env, "productPacked: bad sizes");
  const int32_t *head = (const int32_t *)packed;
  if (lp < PACK_HEADER || head[0] != PACK_TAG || head[1] != N || head[2] != K || head[3] != isa->nr || (int64_t)lp < packed_floats((int)N, (int)K))
    return throw_range(env, "productPacked: the packed operand is not this product's b");
  const int64_t aRows = kind == 2 ? K : M, aCols = kind == 2 ? M : K;
  if (!fits(lo, offs[0], M, N, ldo) || !fits(la, offs[1], aRows, aCols, lda)) return throw_range(env, "productPacked: an operand is out of its array's bounds");
  Product p;
  memset(&p, 0, sizeof p);
  p.out = out + offs[0]; p.a = a + offs[1];
  p.M = (int)M; p.N = (int)N; p.K = (int)K; p.ldo = (long)ldo; p.acc = n[5] != 0;
  if (kind == 2) { p.ai = 1; p.ak = (long)lda; } else { p.ai = (long)lda; p.ak = 1; }
  p.bk = 1; p.bj = 1;
  p.packed = packed + PACK_HEADER;
  product(&p, (int)n[6]);
  return NULL;
}

/* A Float64Array argument of at least `need` elements. */
static int float64_arg(napi_env env, napi_value v, double **data, size_t need) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t len;
  void *d;
  if (napi_get_typedarray_info(env, v, &type, &len, &d, NULL, NULL) != napi_ok || type != napi_float64_array || len < need) return 0;
  *data = (double *)d;
  return 1;
}

/* adam(p, g, m, v, start, end, hyper, threads): hyper as optim.as's adam_update takes it (nine doubles). */
static napi_value js_adam(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8) return throw_range(env, "adam takes 8 arguments");
  float *p, *g, *m, *v;
  size_t lp, lg, lm, lv;
  double *h;
  int64_t r[2], threads;
  if (!float32_arg(env, argv[0], &p, &lp) || !float32_arg(env, argv[1], &g, &lg) || !float32_arg(env, argv[2], &m, &lm) || !float32_arg(env, argv[3], &v, &lv))
    return throw_range(env, "adam: p, g, m and v must be Float32Arrays");
  if (!int_args(env, argv, 4, 2, r) || !int_args(env, argv, 7, 1, &threads)) return throw_range(env, "adam: a range bound is not a number");
  if (!float64_arg(env, argv[6], &h, 9)) return throw_range(env, "adam: hyper must be a Float64Array of 9");
  const int64_t s = r[0], e = r[1];
  if (s < 0 || e < s || e > INT32_MAX || (size_t)e > lp || (size_t)e > lg || (size_t)e > lm || (size_t)e > lv) return throw_range(env, "adam: the range is out of the arrays' bounds");
  Adam a = {p + s, m + s, v + s, g + s, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]};
  adam(&a, (int)(e - s), (int)threads);
  return NULL;
}

/* The (Float32Array g, length n) that sumSquares and scale start with, n within g; argv[2] for scale's coefficient. */
static int vector_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, float **g, int64_t *n) {
  size_t argc = want, lg;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want || !float32_arg(env, argv[0], g, &lg) || !int_args(env, argv, 1, 1, n)) return 0;
  return *n >= 0 && (size_t)*n <= lg;
}

/* sumSquares(g, n): Σ g² over g[0, n) in double, in index order (clipGradNorm's order, so its bits). */
static napi_value js_sum_squares(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float *g;
  int64_t n;
  if (!vector_args(env, info, 2, argv, &g, &n)) return throw_range(env, "sumSquares takes a Float32Array and a length within it");
  double s = 0;
  for (int64_t i = 0; i < n; i++) {
    const double x = (double)g[i];
    s += x * x;
  }
  napi_value out;
  napi_create_double(env, s, &out);
  return out;
}

/* scale(g, n, coef): g = float(g · coef) over g[0, n). */
static napi_value js_scale(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  float *g;
  int64_t n;
  double coef;
  if (!vector_args(env, info, 3, argv, &g, &n) || napi_get_value_double(env, argv[2], &coef) != napi_ok)
    return throw_range(env, "scale takes a Float32Array, a length within it and a coefficient");
  for (int64_t i = 0; i < n; i++) g[i] = (float)((double)g[i] * coef);
  return NULL;
}

/*
 * The arguments attention and gelu share: (backward, four Float32Arrays, then
 * `nints` integers), checked, with `name` in the messages; 0 once it has thrown.
 */
static int wide_kernel_args(napi_env env, napi_callback_info info, const char *name, int nints, bool *backward, float **buf, size_t *len, int64_t *n) {
  size_t argc = 16;
  napi_value argv[16];
  char msg[80];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != (size_t)(5 + nints)) {
    snprintf(msg, sizeof msg, "%s takes %d arguments", name, 5 + nints);
  } else if (napi_get_value_bool(env, argv[0], backward) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: the first argument says forward or backward", name);
  } else if (!float32_arg(env, argv[1], &buf[0], &len[0]) || !float32_arg(env, argv[2], &buf[1], &len[1]) || !float32_arg(env, argv[3], &buf[2], &len[2]) ||
             !float32_arg(env, argv[4], &buf[3], &len[3])) {
    snprintf(msg, sizeof msg, "%s: buffers must be Float32Arrays", name);
  } else if (!int_args(env, argv, 5, nints, n)) {
    snprintf(msg, sizeof msg, "%s: a size is not a number", name);
  } else {
    return 1;
  }
  throw_range(env, msg);
  return 0;
}

static napi_value boolean(napi_env env, bool b) {
  napi_value result;
  napi_get_boolean(env, b, &result);
  return result;
}

/* attention(backward, qkv, yOrDy, P, dqkv, T, B, C, heads, threads): false where it does not run natively here. */
static napi_value js_attention(napi_env env, napi_callback_info info) {
  bool backward;
  float *buf[4];
  size_t len[4];
  int64_t n[5];
  if (!wide_kernel_args(env, info, "attention", 5, &backward, buf, len, n)) return NULL;
  float *qkv = buf[0], *yd = buf[1], *P = buf[2], *dqkv = buf[3];
  const int64_t T = n[0], B = n[1], C = n[2], heads = n[3];
  if (T <= 0 || B <= 0 || C <= 0 || heads <= 0 || C % heads != 0 || T > 1 << 16 || B > 1 << 20 || C > 1 << 16 || heads > C)
    return throw_range(env, "attention: bad sizes");
  if ((int64_t)len[0] < T * B * 3 * C || (int64_t)len[1] < T * B * C || (int64_t)len[2] < B * heads * T * T || (backward && (int64_t)len[3] < T * B * 3 * C))
    return throw_range(env, "attention: a buffer is smaller than its sizes need");
  if (!avx512_native()) return boolean(env, false);
  Attention a = {qkv, backward ? yd : NULL, P, backward ? NULL : yd, backward ? NULL : P, backward ? dqkv : NULL, (int)T, (int)B, (int)C, (int)heads};
  attention(&a, backward, (int)n[4]);
  return boolean(env, true);
}

/*
 * gelu(backward, outOrD, cdf, a, bias, biasOff, rows, cols, threads): forward
 * a += bias, cdf = Φ(a), out = a·Φ(a); backward d *= Φ(a) + a·φ(a) (bias
 * unused). False (nothing touched) where it does not run natively.
 */
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  bool backward;
  float *buf[4];
  size_t len[4];
  int64_t n[4];
  if (!wide_kernel_args(env, info, "gelu", 4, &backward, buf, len, n)) return NULL;
  const int64_t boff = n[0], rows = n[1], cols = n[2];
  if (rows < 0 || cols <= 0 || rows > 1 << 24 || cols > 1 << 20 || rows * cols > (int64_t)1 << 31) return throw_range(env, "gelu: bad sizes");
  const int64_t need = rows * cols;
  if ((int64_t)len[0] < need || (int64_t)len[1] < need || (int64_t)len[2] < need || (!backward && !fits(len[3], boff, 1, cols, cols)))
    return throw_range(env, "gelu: a buffer is smaller than its sizes need");
  if (!avx512_native()) return boolean(env, false);
  Gelu g = {backward ? NULL : buf[0], buf[1], buf[2], backward ? buf[0] : NULL, backward ? NULL : buf[3] + boff, (int)cols};
  gelu(&g, (int)rows, backward, (int)n[3]);
  return boolean(env, true);
}

static napi_value js_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  napi_create_string_utf8(env, isa->name, NAPI_AUTO_LENGTH, &s);
  return s;
}

/*
 * Node unloads a worker thread's addons when the worker exits and loads them
 * afresh in the next. The pool's threads outlive any one caller: an unload
 * leaves them asleep in the old copy while the new copy starts over with its
 * own state, and a later product then waited forever (unit test: workers
 * that come and go). So the library stays loaded for the life of the process.
 */
static void pin_library(void) {
  Dl_info info;
  if (dladdr((void *)&pin_library, &info) && info.dli_fname) (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static void load_once(void) {
  pin_library();
  choose_isa();
}

static pthread_once_t load_once_flag = PTHREAD_ONCE_INIT;

NAPI_MODULE_INIT() {
  pthread_once(&load_once_flag, load_once);
  static const napi_property_descriptor functions[] = {
    {"product", NULL, js_product, NULL, NULL, NULL, napi_enumerable, NULL},
    {"packedSize", NULL, js_packed_size, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pack", NULL, js_pack, NULL, NULL, NULL, napi_enumerable, NULL},
    {"productPacked", NULL, js_product_packed, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adam", NULL, js_adam, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attention", NULL, js_attention, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumSquares", NULL, js_sum_squares, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scale", NULL, js_scale, NULL, NULL, NULL, napi_enumerable, NULL},
    {"gelu", NULL, js_gelu, NULL, NULL, NULL, napi_enumerable, NULL},
    {"isa", NULL, js_isa, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
