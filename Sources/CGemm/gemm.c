// See include/stitch_gemm.h.
#define _GNU_SOURCE  // RTLD_DEFAULT
#include "stitch_gemm.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef long blas_long;
typedef int (*copy_fn)(blas_long m, blas_long n, const float *a, blas_long lda, float *b);
typedef int (*kernel_fn)(blas_long m, blas_long n, blas_long k, float alpha, const float *sa, const float *sb,
                         float *c, blas_long ldc);

// The Haswell kernel's register block (OpenBLAS 0.3.21 `sgemm_kernel_HASWELL`): 8 rows of A by 4 columns of
// B, confirmed from the packing routines' layouts (itcopy groups 8 rows, oncopy 4 columns).
enum { UNROLL_M = 8, UNROLL_N = 4 };
// Block sizes: k panels of KC, A blocks of MC rows, B in NC-column slabs. Chosen by measurement on the
// 2-core AMD EPYC (Zen 4) of benchmarks/RESULTS.md ("sgemm kernels"): packed A (MC×KC floats, 512 KiB) sits
// in the 1 MiB L2.
enum { MC = 512, KC = 256, NC = 4096 };

static copy_fn in_copy, it_copy, on_copy, ot_copy;
static kernel_fn kernel;
static int available;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void look_up(void) {
  // The process already loaded OpenBLAS (StitchTensor links it), so its exports are in the global scope.
  void *lib = RTLD_DEFAULT;
  in_copy = (copy_fn)dlsym(lib, "sgemm_incopy_HASWELL");
  it_copy = (copy_fn)dlsym(lib, "sgemm_itcopy_HASWELL");
  on_copy = (copy_fn)dlsym(lib, "sgemm_oncopy_HASWELL");
  ot_copy = (copy_fn)dlsym(lib, "sgemm_otcopy_HASWELL");
  kernel = (kernel_fn)dlsym(lib, "sgemm_kernel_HASWELL");
  available = in_copy && it_copy && on_copy && ot_copy && kernel;
}

int stitch_gemm_available(void) {
  pthread_once(&once, look_up);
  return available;
}

// Per-thread packing buffers, freed when the thread ends.
typedef struct { float *a, *b; } buffers;
static pthread_key_t buffers_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static void free_buffers(void *p) {
  buffers *bufs = p;
  free(bufs->a);
  free(bufs->b);
  free(bufs);
}
static void make_key(void) { pthread_key_create(&buffers_key, free_buffers); }

static buffers *thread_buffers(void) {
  pthread_once(&key_once, make_key);
  buffers *bufs = pthread_getspecific(buffers_key);
  if (bufs) return bufs;
  bufs = calloc(1, sizeof *bufs);
  if (!bufs) return NULL;
  bufs->a = aligned_alloc(4096, sizeof(float) * (MC + UNROLL_M) * (KC + UNROLL_M) + 4096);
  bufs->b = aligned_alloc(4096, sizeof(float) * (KC + UNROLL_M) * (NC + UNROLL_N) + 4096);
  if (!bufs->a || !bufs->b) {
    free_buffers(bufs);
    return NULL;
  }
  pthread_setspecific(buffers_key, bufs);
  return bufs;
}

static blas_long round_up(blas_long x, blas_long to) { return (x + to - 1) / to * to; }

/// Rows of A's next block: all when they fit, MC when at least two blocks' worth remain, else half (rounded to
/// the register block) so the last two blocks are even.
static blas_long block_rows(blas_long rest) {
  if (rest >= 2 * MC) return MC;
  if (rest > MC) return round_up(rest / 2, UNROLL_M);
  return rest;
}

// Column-major C (m×n) = op(A)·op(B) + C, where op(A) is m×k (A stored k×m when ta) and op(B) k×n (B stored
// n×k when tb).
static void gemm_colmajor(int ta, int tb, blas_long m, blas_long n, blas_long k, const float *a, blas_long lda,
                          const float *b, blas_long ldb, float *c, blas_long ldc, float *sa, float *sb) {
  for (blas_long js = 0; js < n; js += NC) {
    blas_long nj = n - js < NC ? n - js : NC;
    blas_long kl;
    for (blas_long ls = 0; ls < k; ls += kl) {
      kl = k - ls;
      if (kl >= 2 * KC) kl = KC;
      else if (kl > KC) kl = round_up(kl / 2, UNROLL_M);
      blas_long mi = block_rows(m);
      if (ta) in_copy(kl, mi, a + ls + 0 * lda, lda, sa);
      else it_copy(kl, mi, a + 0 + ls * lda, lda, sa);
      // Pack B's slab a few columns at a time, multiplying the first A block as each piece arrives.
      blas_long jj;
      for (blas_long jjs = js; jjs < js + nj; jjs += jj) {
        jj = js + nj - jjs;
        if (jj >= 3 * UNROLL_N) jj = 3 * UNROLL_N;
        else if (jj > UNROLL_N) jj = UNROLL_N;
        float *piece = sb + kl * (jjs - js);
        if (tb) ot_copy(kl, jj, b + jjs + ls * ldb, ldb, piece);
        else on_copy(kl, jj, b + ls + jjs * ldb, ldb, piece);
        kernel(mi, jj, kl, 1.0f, sa, piece, c + jjs * ldc, ldc);
      }
      for (blas_long is = mi; is < m; is += mi) {
        mi = block_rows(m - is);
        if (ta) in_copy(kl, mi, a + ls + is * lda, lda, sa);
        else it_copy(kl, mi, a + is + ls * lda, lda, sa);
        kernel(mi, nj, kl, 1.0f, sa, sb, c + is + js * ldc, ldc);
      }
    }
  }
}

int stitch_gemm_rowmajor(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                         const float *b, long ldb, float beta, float *c, long ldc) {
  buffers *bufs = thread_buffers();
  if (!bufs) return -1;
  // β first, as OpenBLAS does (its kernels accumulate into C).
  if (beta == 0.0f) {
    for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
  } else if (beta != 1.0f) {
    for (long i = 0; i < m; i++)
      for (long j = 0; j < n; j++) c[i * ldc + j] *= beta;
  }
  // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands and their roles.
  gemm_colmajor(transpose_b, transpose_a, n, m, k, b, ldb, a, lda, c, ldc, bufs->a, bufs->b);
  return 0;
}
