/* Row-major cblas_sgemm throughput for one shape M x N x K, every transpose combination, with beta = 0 and
 * beta = 1 (best of 5 batches of 20 calls, warm buffers). Why: Tensor.linear either copies its bias into the
 * output and accumulates the product onto it (beta = 1) or adds the bias after the product (beta = 0), and
 * OpenBLAS 0.3.21's beta = 0 kernels are slower for small K (benchmarks/RESULTS.md, "sgemm beta").
 *   cc -O2 benchmarks/sgemm_beta_probe.c -o /tmp/sgemm_beta_probe -lopenblas
 *   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX taskset -c 0 /tmp/sgemm_beta_probe 256 256 17 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s M N K\n", argv[0]); return 2; }
  int M = atoi(argv[1]), N = atoi(argv[2]), K = atoi(argv[3]);
  if (M <= 0 || N <= 0 || K <= 0) { fprintf(stderr, "M, N and K must be positive\n"); return 2; }
  float *A = malloc(4L * M * K), *B = malloc(4L * K * N), *C = malloc(4L * M * N);
  if (!A || !B || !C) { fprintf(stderr, "out of memory\n"); return 1; }
  for (long i = 0; i < (long)M * K; i++) A[i] = (i % 7) * 0.1f;
  for (long i = 0; i < (long)K * N; i++) B[i] = (i % 5) * 0.1f;
  for (long i = 0; i < (long)M * N; i++) C[i] = 0;
  const char *names[4] = {"NN", "TN", "NT", "TT"};
  for (int v = 0; v < 4; v++) {
    int ta = v & 1, tb = v >> 1;
    int lda = ta ? M : K, ldb = tb ? K : N;
    for (int beta = 0; beta < 2; beta++) {
      double best = 1e9;
      for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (int i = 0; i < 20; i++)
          cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f,
                      A, lda, B, ldb, (float)beta, C, N);
        double t = (now() - t0) / 20;
        if (t < best) best = t;
      }
      printf("%s beta=%d %dx%dx%d: %.1f GFLOP/s\n", names[v], beta, M, N, K, 2.0 * M * N * K / best / 1e9);
    }
  }
  free(A); free(B); free(C);
  return 0;
}
