// See include/stitch_backends.h.
#define _GNU_SOURCE
#include "stitch_backends.h"

#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The entry points, declared here from the libraries' headers (oneDNN 2.6 dnnl.h, libxsmm 1.17 libxsmm.h /
// libxsmm_typedefs.h with LIBXSMM_CONFIG_ILP64 0, BLIS 0.9 blis.h with 64-bit dim_t/inc_t) so that building
// Stitch needs none of them.
typedef int (*dnnl_sgemm_fn)(char, char, long long, long long, long long, float, const float *, long long,
                             const float *, long long, float, float *, long long);
typedef struct { int major, minor, patch; const char *hash; unsigned cpu_runtime, gpu_runtime; } dnnl_version_info;
typedef const dnnl_version_info *(*dnnl_version_fn)(void);
typedef void (*xsmm_kernel)(const float *a, const float *b, float *c, ...);
typedef xsmm_kernel (*xsmm_dispatch_fn)(int m, int n, int k, const int *lda, const int *ldb, const int *ldc,
                                        const float *alpha, const float *beta, const int *flags, const int *prefetch);
typedef void (*xsmm_init_fn)(void);
typedef const char *(*xsmm_arch_fn)(void);
enum { XSMM_TRANS_B = 2, XSMM_BETA_0 = 16 };  // LIBXSMM_GEMM_FLAG_TRANS_B, LIBXSMM_GEMM_FLAG_BETA_0
typedef void (*blis_sgemm_fn)(int transa, int transb, long m, long n, long k, const float *alpha, const float *a,
                              long rsa, long csa, const float *b, long rsb, long csb, const float *beta, float *c,
                              long rsc, long csc);
typedef void (*blis_threads_fn)(long);
typedef const char *(*blis_version_fn)(void);
enum { BLIS_NO_TRANSPOSE = 0, BLIS_TRANSPOSE = 1 << 3 };  // trans_t: BLIS_TRANS_BIT = 1 << BLIS_TRANS_SHIFT (3)

typedef struct {
  pthread_once_t once;
  int usable;
  char note[256];
  char version[64];
} backend_state;

static backend_state states[4] = {{PTHREAD_ONCE_INIT}, {PTHREAD_ONCE_INIT}, {PTHREAD_ONCE_INIT}, {PTHREAD_ONCE_INIT}};
static dnnl_sgemm_fn dnnl_sgemm_p;
static xsmm_dispatch_fn xsmm_dispatch_p;
static blis_sgemm_fn blis_sgemm_p;

static int run(int backend, int ta, int tb, long m, long n, long k, const float *a, long lda, const float *b,
               long ldb, float beta, float *c, long ldc);

static stitch_sgemm_like checked_function;
static int has_avx;  // set when a backend loads: whether `vzeroupper` exists on this CPU

// Four probe products (every transpose pair, odd sizes, beta 0 and 1) against a double-precision loop; backend 0
// is `checked_function` (stitch_backend_check_function).
static int self_check(int backend, char *why, size_t size) {
  enum { M = 37, N = 29, K = 41 };
  float a[M * K], b[K * N], c[M * N], c0[M * N];  // on the stack: loaders may run at once
  for (int i = 0; i < M * K; i++) a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
  for (int i = 0; i < K * N; i++) b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
  for (int i = 0; i < M * N; i++) c0[i] = (float)(i % 3) - 1.0f;
  int ran = 0;
  for (int pair = 0; pair < 4; pair++) {
    int ta = pair & 1, tb = pair >> 1;
    float beta = (float)(pair % 2);
    long lda = ta ? M : K, ldb = tb ? K : N;
    memcpy(c, c0, sizeof c);
    int status = backend == 0 ? checked_function(ta, tb, M, N, K, a, lda, b, ldb, beta, c, N)
                              : run(backend, ta, tb, M, N, K, a, lda, b, ldb, beta, c, N);
    if (status == 1) continue;  // declined: never used for this pair
    if (status != 0) { snprintf(why, size, "the probe product failed (status %d)", status); return 0; }
    ran++;
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        double sum = beta * c0[i * N + j];
        for (int p = 0; p < K; p++) sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
        if (!(fabs(c[i * N + j] - sum) <= 1e-4 * (1 + fabs(sum)))) {
          snprintf(why, size, "wrong result on a %dx%dx%d %c%c probe product (C[%d,%d] = %g, expected %g)", M, N, K,
                   ta ? 'T' : 'N', tb ? 'T' : 'N', i, j, c[i * N + j], sum);
          return 0;
        }
      }
  }
  // A library that computes none of the probes (libxsmm with no JIT target for this CPU, LIBXSMM_TARGET=generic)
  // would only hand every product back to OpenBLAS: say so rather than list it as in use.
  if (ran == 0) { snprintf(why, size, "it computes none of the probe products (no kernel for this CPU)"); return 0; }
  return 1;
}

// The directory of the running executable, with a trailing slash ("" when unknown).
static void executable_dir(char *out, size_t size) {
  out[0] = 0;
  ssize_t len = readlink("/proc/self/exe", out, size - 1);
  if (len <= 0) { out[0] = 0; return; }
  out[len] = 0;
  char *slash = strrchr(out, '/');
  if (slash) slash[1] = 0; else out[0] = 0;
}

static void *open_libxsmm(char *tried, size_t size) {
  const char *env = getenv("STITCH_LIBXSMM");
  if (env && *env) { snprintf(tried, size, "%s", env); return dlopen(env, RTLD_NOW | RTLD_LOCAL); }
  char dir[PATH_MAX], path[PATH_MAX + 64];
  executable_dir(dir, sizeof dir);
  const char *candidates[] = {"libstitch_xsmm.so", "../backends/libstitch_xsmm.so", "../../backends/libstitch_xsmm.so"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    snprintf(path, sizeof path, "%s%s", dir, candidates[i]);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib) return lib;
  }
  snprintf(tried, size, "%s../backends/libstitch_xsmm.so (made by scripts/bootstrap from libxsmm-dev)", dir);
  return NULL;
}

static void load(int backend) {
  backend_state *s = &states[backend];
  __builtin_cpu_init();
  has_avx = __builtin_cpu_supports("avx");
  void *lib = NULL;
  switch (backend) {
  case STITCH_BACKEND_ONEDNN: {
    // oneDNN's OpenMP runtime reads its thread count when it loads; Stitch runs one thread per product.
    setenv("OMP_NUM_THREADS", "1", 0);
    lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(s->note, sizeof s->note, "oneDNN not found (libdnnl.so.2; Debian package libdnnl2)"); return; }
    dnnl_sgemm_p = (dnnl_sgemm_fn)dlsym(lib, "dnnl_sgemm");
    dnnl_version_fn version = (dnnl_version_fn)dlsym(lib, "dnnl_version");
    if (version && version()) snprintf(s->version, sizeof s->version, "%d.%d.%d", version()->major, version()->minor, version()->patch);
    if (!dnnl_sgemm_p) { snprintf(s->note, sizeof s->note, "libdnnl.so.2 has no dnnl_sgemm"); return; }
    break;
  }
  case STITCH_BACKEND_LIBXSMM: {
    char tried[PATH_MAX + 128];
    lib = open_libxsmm(tried, sizeof tried);
    if (!lib) { snprintf(s->note, sizeof s->note, "libxsmm not found (%.200s)", tried); return; }
    xsmm_init_fn init = (xsmm_init_fn)dlsym(lib, "libxsmm_init");
    xsmm_dispatch_p = (xsmm_dispatch_fn)dlsym(lib, "libxsmm_smmdispatch");
    xsmm_arch_fn arch = (xsmm_arch_fn)dlsym(lib, "libxsmm_get_target_arch");
    if (!init || !xsmm_dispatch_p) { snprintf(s->note, sizeof s->note, "the libxsmm library has no libxsmm_smmdispatch"); return; }
    init();
    snprintf(s->version, sizeof s->version, "1.17 (%s)", arch ? arch() : "?");
    break;
  }
  case STITCH_BACKEND_BLIS: {
    lib = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("/usr/lib/x86_64-linux-gnu/blis-openmp/libblis.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(s->note, sizeof s->note, "BLIS not found (libblis.so.4; Debian package libblis4)"); return; }
    blis_sgemm_p = (blis_sgemm_fn)dlsym(lib, "bli_sgemm");
    blis_threads_fn threads = (blis_threads_fn)dlsym(lib, "bli_thread_set_num_threads");
    blis_version_fn version = (blis_version_fn)dlsym(lib, "bli_info_get_version_str");
    if (!blis_sgemm_p) { snprintf(s->note, sizeof s->note, "libblis.so.4 has no bli_sgemm"); return; }
    if (threads) threads(1);
    if (version) snprintf(s->version, sizeof s->version, "%s", version());
    break;
  }
  default:
    snprintf(s->note, sizeof s->note, "unknown backend %d", backend);
    return;
  }
  char why[200];
  if (!self_check(backend, why, sizeof why)) {
    snprintf(s->note, sizeof s->note, "skipped: %s", why);
    return;
  }
  s->usable = 1;
}

static void load_onednn(void) { load(STITCH_BACKEND_ONEDNN); }
static void load_libxsmm(void) { load(STITCH_BACKEND_LIBXSMM); }
static void load_blis(void) { load(STITCH_BACKEND_BLIS); }

int stitch_backend_available(int backend, char *note, unsigned long note_size) {
  if (backend < 1 || backend > 3) {
    if (note && note_size) snprintf(note, note_size, "unknown backend %d", backend);
    return 0;
  }
  void (*loader)(void) = backend == 1 ? load_onednn : backend == 2 ? load_libxsmm : load_blis;
  pthread_once(&states[backend].once, loader);
  if (note && note_size) snprintf(note, note_size, "%s", states[backend].note);
  return states[backend].usable;
}

const char *stitch_backend_version(int backend) {
  if (backend < 1 || backend > 3 || !stitch_backend_available(backend, NULL, 0)) return "";
  return states[backend].version;
}

int stitch_backend_accepts(int backend, int transpose_a, int transpose_b, float beta) {
  (void)transpose_a;
  switch (backend) {
  case STITCH_BACKEND_ONEDNN: case STITCH_BACKEND_BLIS: return 1;
  case STITCH_BACKEND_LIBXSMM: return !transpose_b && (beta == 0 || beta == 1);
  default: return 0;
  }
}

static int run(int backend, int ta, int tb, long m, long n, long k, const float *a, long lda, const float *b,
               long ldb, float beta, float *c, long ldc) {
  if (!stitch_backend_accepts(backend, ta, tb, beta)) return 1;
  switch (backend) {
  case STITCH_BACKEND_ONEDNN:
    return dnnl_sgemm_p(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc) == 0 ? 0 : -2;
  case STITCH_BACKEND_LIBXSMM: {
    // Column-major view: Cᵀ (n×m) = op(B)ᵀ (n×k) · op(A)ᵀ (k×m); B is libxsmm's A, A its B (transposed when ta).
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX) return 1;
    int xlda = (int)ldb, xldb = (int)lda, xldc = (int)ldc;
    int flags = (ta ? XSMM_TRANS_B : 0) | (beta == 0 ? XSMM_BETA_0 : 0);
    float alpha = 1.0f;
    xsmm_kernel kernel = xsmm_dispatch_p((int)n, (int)m, (int)k, &xlda, &xldb, &xldc, &alpha, &beta, &flags, NULL);
    if (!kernel) return 1;  // no JIT kernel for this shape
    kernel(b, a, c);
    return 0;
  }
  case STITCH_BACKEND_BLIS: {
    float one = 1.0f;
    blis_sgemm_p(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &one, a,
                 lda, 1, b, ldb, 1, &beta, c, ldc, 1);
    return 0;
  }
  default:
    return -1;
  }
}

int stitch_backend_check_function(stitch_sgemm_like product, char *why, unsigned long why_size) {
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;  // one checked_function at a time
  char reason[200] = "";
  pthread_mutex_lock(&lock);
  checked_function = product;
  int ok = self_check(0, reason, sizeof reason);
  pthread_mutex_unlock(&lock);
  if (why && why_size) snprintf(why, why_size, "%s", reason);
  return ok;
}

int stitch_backend_sgemm(int backend, int transpose_a, int transpose_b, long m, long n, long k, const float *a,
                         long lda, const float *b, long ldb, float beta, float *c, long ldc) {
  if (!stitch_backend_available(backend, NULL, 0)) return -1;
  int status = run(backend, transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
  // A JIT kernel may return with the upper halves of the vector registers dirty; Stitch's own loops are SSE code,
  // which then pays the AVX–SSE transition on every instruction. Clear them, as OpenBLAS's kernels do on exit.
  if (has_avx) __asm__ volatile("vzeroupper" ::: "memory");
  return status;
}
