// Measures one sgemm split over two cores by Stitch's fork-join (Sources/CForkJoin: rows or columns halved at a
// multiple of 16, each half single-threaded OpenBLAS) against one OpenBLAS thread and OpenBLAS's own two
// threads, at the shapes of Stitch's MLP updates and the SynthER denoiser; and whether each split's result is
// bit-identical to the one-thread product. The measurement behind ProductLanes (benchmarks/RESULTS.md,
// "product lanes").
//
//   gcc -O2 -o /tmp/product_split_probe benchmarks/product_split_probe.c Sources/CForkJoin/fork_join.c
//       -ISources/CForkJoin/include $(pkg-config --cflags --libs openblas) -lpthread   (one line)
//   taskset -c 0,1 /tmp/product_split_probe
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fork_join.h"

extern void openblas_set_num_threads(int);

typedef struct { int ta, tb, m, n, k, axis, at; const float *a, *b; float *c; } task_t;

static void block(const task_t *t, int i0, int i1, int j0, int j1) {
  if (i1 <= i0 || j1 <= j0) return;
  int lda = t->ta ? t->m : t->k, ldb = t->tb ? t->k : t->n;
  const float *a = t->a + (t->ta ? i0 : (size_t)i0 * lda), *b = t->b + (t->tb ? (size_t)j0 * ldb : j0);
  cblas_sgemm(CblasRowMajor, t->ta ? CblasTrans : CblasNoTrans, t->tb ? CblasTrans : CblasNoTrans, i1 - i0, j1 - j0, t->k,
              1.f, a, lda, b, ldb, 0.f, t->c + (size_t)i0 * t->n + j0, t->n);
}

static void lane(void *context, int which) {
  const task_t *t = context;
  if (t->axis == 0) block(t, which ? t->at : 0, which ? t->m : t->at, 0, t->n);
  else block(t, 0, t->m, which ? t->at : 0, which ? t->n : t->at);
}

static double now(void) { struct timespec s; clock_gettime(CLOCK_MONOTONIC, &s); return s.tv_sec + 1e-9 * s.tv_nsec; }

int main(void) {
  stitch_pair *pair = stitch_pair_create();
  if (!pair) { fprintf(stderr, "no helper thread\n"); return 1; }
  int shapes[][5] = {  // ta, tb, m, n, k
    {0, 1, 256, 256, 17}, {0, 1, 256, 256, 256}, {0, 1, 256, 6, 256}, {0, 0, 256, 17, 256}, {0, 0, 256, 256, 6},
    {1, 0, 256, 256, 256}, {1, 0, 17, 256, 256}, {1, 0, 6, 256, 256},
    {0, 1, 256, 1024, 1024}, {0, 0, 256, 1024, 1024}, {1, 0, 1024, 1024, 256}};
  printf("%-24s %8s %8s %8s %8s  %s\n", "shape (GFLOP/s)", "1 thread", "blas 2", "rows 2", "cols 2", "bit-identical rows/cols");
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int ta = shapes[s][0], tb = shapes[s][1], m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
    float *a = malloc(4ul * m * k), *b = malloc(4ul * k * n), *c0 = malloc(4ul * m * n), *c1 = malloc(4ul * m * n);
    srand((unsigned)s);
    for (long i = 0; i < (long)m * k; i++) a[i] = rand() / (float)RAND_MAX - .5f;
    for (long i = 0; i < (long)k * n; i++) b[i] = rand() / (float)RAND_MAX - .5f;
    double flop = 2.0 * m * n * k, best[4] = {1e9, 1e9, 1e9, 1e9};
    int reps = (int)(1e9 / flop) + 3, same[2] = {0, 0};
    task_t whole = {ta, tb, m, n, k, 0, m, a, b, c0};
    for (int round = 0; round < 5; round++) {
      for (int mode = 0; mode < 4; mode++) {
        openblas_set_num_threads(mode == 1 ? 2 : 1);
        task_t t = {ta, tb, m, n, k, mode == 3, mode == 3 ? ((n / 2 + 15) / 16 * 16) : ((m / 2 + 15) / 16 * 16), a, b, c1};
        if (t.at > (mode == 3 ? n : m)) t.at = mode == 3 ? n : m;
        double t0 = now();
        for (int r = 0; r < reps; r++) { if (mode < 2) lane(&whole, 0); else stitch_pair_run(pair, lane, &t); }
        double dt = (now() - t0) / reps;
        if (dt < best[mode]) best[mode] = dt;
        if (mode >= 2) {
          openblas_set_num_threads(1);
          lane(&whole, 0);
          same[mode - 2] = memcmp(c0, c1, 4ul * m * n) == 0;
        }
      }
    }
    char name[64];
    snprintf(name, sizeof name, "%c%c %dx%dx%d", ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k);
    printf("%-24s %8.1f %8.1f %8.1f %8.1f  %d/%d\n", name, flop / best[0] / 1e9, flop / best[1] / 1e9, flop / best[2] / 1e9,
           flop / best[3] / 1e9, same[0], same[1]);
    free(a); free(b); free(c0); free(c1);
  }
  stitch_pair_destroy(pair);
  return 0;
}
