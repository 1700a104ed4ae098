// Which two-part splits of one sgemm keep every output element bit-identical to the whole product, for the
// OpenBLAS kernel this process loads: for each shape of MLP training and each transpose case, the row-major
// output's rows (and columns) split at every multiple q of 4 up to 48 (the half point rounded up to q), each
// part computed by its own cblas_sgemm call, compared with memcmp against the whole product. Prints, per shape
// and transpose, the multiples that keep every element. The measurement behind ProductLanes.split
// (benchmarks/RESULTS.md, "Zen 5": Haswell keeps rows at multiples of 12 only and columns at none; SkylakeX
// keeps rows and columns except where a part crosses the small-matrix kernel's threshold).
//
//   gcc -O2 -o /tmp/split_identity_probe benchmarks/split_identity_probe.c $(pkg-config --cflags --libs openblas)
//   for K in Haswell SkylakeX; do OPENBLAS_CORETYPE=$K OPENBLAS_NUM_THREADS=1 /tmp/split_identity_probe; done
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Rows i0..<i1 and columns j0..<j1 of the row-major product op(A)·op(B) (A m×k, B k×n as stored, transposed
// where asked) into c, as one cblas_sgemm call.
static void part(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c, int i0, int i1,
                 int j0, int j1) {
  int lda = ta ? m : k, ldb = tb ? k : n;
  const float *a0 = a + (ta ? i0 : (size_t)i0 * lda), *b0 = b + (tb ? (size_t)j0 * ldb : j0);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, i1 - i0, j1 - j0, k,
              1.f, a0, lda, b0, ldb, 0.f, c + (size_t)i0 * n + j0, n);
}

int main(void) {
  static const int shapes[][3] = {{64, 64, 1024}, {64, 1, 1024}, {1024, 64, 64}, {1024, 1, 64}, {1024, 64, 2},
                                  {1024, 2, 64}, {256, 256, 256}, {256, 6, 256}, {256, 1, 256}, {256, 256, 17},
                                  {256, 17, 256}, {256, 256, 6}, {512, 1024, 1024}, {256, 1024, 42},
                                  {1024, 1024, 256}, {96, 256, 256}, {72, 256, 256}};
  srand(1);
  for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *whole = malloc(sizeof(float) * m * n), *split = malloc(sizeof(float) * m * n);
    for (int i = 0; i < m * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (int i = 0; i < k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
    printf("%dx%dx%d:", m, n, k);
    for (int t = 0; t < 4; t++) {
      const int ta = t & 1, tb = t >> 1;
      part(ta, tb, m, n, k, a, b, whole, 0, m, 0, n);
      char rows[80] = "", cols[80] = "";
      for (int q = 4; q <= 48; q += 4) {
        char tag[8];
        snprintf(tag, sizeof tag, "%d,", q);
        const int r = (m / 2 + q - 1) / q * q, c = (n / 2 + q - 1) / q * q;
        if (r > 0 && r < m) {
          part(ta, tb, m, n, k, a, b, split, 0, r, 0, n);
          part(ta, tb, m, n, k, a, b, split, r, m, 0, n);
          if (!memcmp(whole, split, sizeof(float) * m * n)) strcat(rows, tag);
        }
        if (c > 0 && c < n) {
          part(ta, tb, m, n, k, a, b, split, 0, m, 0, c);
          part(ta, tb, m, n, k, a, b, split, 0, m, c, n);
          if (!memcmp(whole, split, sizeof(float) * m * n)) strcat(cols, tag);
        }
      }
      printf("  %c%c rows[%s] cols[%s]", ta ? 'T' : 'N', tb ? 'T' : 'N', rows, cols);
    }
    printf("\n");
    free(a); free(b); free(whole); free(split);
  }
  return 0;
}
