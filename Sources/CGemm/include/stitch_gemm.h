#ifndef STITCH_GEMM_H
#define STITCH_GEMM_H

/// A Goto-style single-threaded sgemm driver over OpenBLAS's own Haswell (AVX2) micro-kernel and packing
/// routines, looked up at run time in the loaded OpenBLAS (DYNAMIC_ARCH builds export every core's kernels as
/// `sgemm_kernel_HASWELL`, `sgemm_itcopy_HASWELL`, ...).
///
/// Why: on AMD Zen 4, which runs 512-bit FMAs as two 256-bit halves, the AVX-512 kernel OpenBLAS picks there
/// (Cooperlake) is 3–8% slower than its Haswell one driven by this file on the square and wide products of MLP
/// training, 30% on the SynthER denoiser's input layer (benchmarks/sgemm_driver_probe.c), while the Haswell
/// kernel is far slower on outputs only a few rows or columns wide (256×6 outputs: 36 against 99), where OpenBLAS's
/// AVX-512 small-matrix path wins. A process has one OpenBLAS core type, so Stitch drives the Haswell kernel
/// itself for the products it suits and leaves the rest to `cblas_sgemm` (see StitchTensor's BLAS.swift).
///
/// The driver follows the blocking of Goto & van de Geijn, "Anatomy of high-performance matrix
/// multiplication" (ACM TOMS 34(3), 2008): k in panels of `kc`, A's rows in blocks of `mc` packed once per
/// panel, B's columns packed `nr` at a time. Each output element is a dot product over k in order, panel by
/// panel, so splitting the output's rows or columns over threads does not change any element.

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the Haswell kernels were found in the loaded OpenBLAS (looked up once), else 0.
int stitch_gemm_available(void);

/// Row-major C (m×n, leading dimension ldc) = op(A)·op(B) + beta·C with op(A) m×k, op(B) k×n; A stored
/// transposed (k×m, lda ≥ m) when transpose_a, else m×k (lda ≥ k); likewise B. Single-threaded, on the
/// calling thread's own packing buffers (allocated on its first call, freed when it ends). Requires
/// stitch_gemm_available() and m, n, k ≥ 1. Returns 0, or -1 (C untouched) when the buffers cannot be allocated.
int stitch_gemm_rowmajor(int transpose_a, int transpose_b, long m, long n, long k,
                         const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
