#ifndef STITCH_BACKENDS_H
#define STITCH_BACKENDS_H

/// Other sgemm libraries than OpenBLAS, loaded at run time with dlopen so that Stitch builds and runs on a
/// machine that has none of them (it then uses OpenBLAS alone, with a note):
///
/// - oneDNN (Debian libdnnl2, `libdnnl.so.2`): `dnnl_sgemm`, row-major, any transposes; its OpenMP threads are
///   held to one (OMP_NUM_THREADS=1 is set before the library loads when the environment does not set it).
/// - libxsmm (Debian libxsmm-dev 1.17 ships only static archives: `scripts/bootstrap` links them into
///   `.build/backends/libstitch_xsmm.so`; `STITCH_LIBXSMM` names another file): JIT-generated kernels from
///   `libxsmm_smmdispatch`, one per shape, cached by libxsmm. Column-major, so a row-major C = op(A)·op(B) runs as
///   Cᵀ = op(B)ᵀ·op(A)ᵀ; libxsmm 1.17's generator has no transposed first operand, so products with a
///   transposed B (NT) and beta other than 0 or 1 are declined (the caller uses OpenBLAS).
/// - BLIS (Debian libblis4, `libblis.so.4`): `bli_sgemm` with general strides, one thread.
///
/// Each backend must pass a self-check when it loads (four probe products, every transpose pair, against a
/// double-precision loop); one that fails is not used and its note says why.

#ifdef __cplusplus
extern "C" {
#endif

enum { STITCH_BACKEND_ONEDNN = 1, STITCH_BACKEND_LIBXSMM = 2, STITCH_BACKEND_BLIS = 3 };

/// Loads `backend` once (thread-safe) and returns 1 when it is usable, else 0. `note` (may be NULL) receives a
/// one-line reason when it is not: absent, missing symbols, or a failed self-check.
int stitch_backend_available(int backend, char *note, unsigned long note_size);

/// Row-major C (m×n, ldc) = op(A)·op(B) + beta·C, as `cblas_sgemm` with alpha 1. Returns 0 when done, 1 when this
/// backend declines the product (C untouched; the caller uses OpenBLAS), -1 when it is not available.
int stitch_backend_sgemm(int backend, int transpose_a, int transpose_b, long m, long n, long k, const float *a,
                         long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// Whether `backend` runs this product itself (1) or declines it (0), without running it.
int stitch_backend_accepts(int backend, int transpose_a, int transpose_b, float beta);

/// Runs the load-time self-check on `product` (row-major, as `stitch_backend_sgemm` without the backend; return 0
/// when done, 1 to decline): 1 when every probe product it runs is right, else 0 with the reason in `why`. Lets
/// tests show that a wrong library is refused.
typedef int (*stitch_sgemm_like)(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                                 const float *b, long ldb, float beta, float *c, long ldc);
int stitch_backend_check_function(stitch_sgemm_like product, char *why, unsigned long why_size);

/// The library's version string ("" when unknown or not loaded).
const char *stitch_backend_version(int backend);

#ifdef __cplusplus
}
#endif

#endif
