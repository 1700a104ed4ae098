/* The memory system's floor for a random minibatch gather, measured beside `stitch bench data` (data-vs-h5py).
 *
 * A table of N rows of W floats (2 MiB-aligned, advised for transparent huge pages, as Stitch's TransitionRows),
 * batches of B random rows: prefetch every cache line of every row, then memcpy each whole row out. This is the
 * least work any sampler can do for the same bytes (no split into columns, no RNG cost in the timing), so
 * Stitch's microseconds per batch divided by this median is the overhead that is Stitch's own.
 *   cc -O2 -o gather_floor benchmarks/gather_floor.c && ./gather_floor [N] [W] [B] [REPEATS]
 * Prints one JSON object: mean, median and best microseconds per batch. Stitch's `bench data` figure is a
 * throughput (batches back to back, total time over batches), so the mean is the figure to compare it with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], 0, 10) : 1000000, w = argc > 2 ? strtoul(argv[2], 0, 10) : 48;
  int batch = argc > 3 ? atoi(argv[3]) : 256, repeats = argc > 4 ? atoi(argv[4]) : 20000;
  size_t stride = (w + 15) / 16 * 16, bytes = n * stride * sizeof(float);
  float *table = 0;
  if (posix_memalign((void **)&table, 2 << 20, bytes) != 0) { fprintf(stderr, "gather_floor: out of memory\n"); return 1; }
#ifdef MADV_HUGEPAGE
  madvise(table, bytes, MADV_HUGEPAGE);
#endif
  for (size_t i = 0; i < n * stride; i++) table[i] = (float)(i % 1000);
  float *out = malloc((size_t)batch * w * sizeof(float));
  size_t *idx = malloc((size_t)batch * sizeof(size_t));
  double *t = malloc((size_t)repeats * sizeof(double));
  unsigned long long x = 88172645463325252ULL;
  volatile float sink = 0;
  for (int r = 0; r < repeats; r++) {
    for (int k = 0; k < batch; k++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; idx[k] = x % n; }
    double start = now();
    for (int k = 0; k < batch; k++)
      for (size_t c = 0; c < stride; c += 16) __builtin_prefetch(table + idx[k] * stride + c, 0, 3);
    for (int k = 0; k < batch; k++) memcpy(out + (size_t)k * w, table + idx[k] * stride, w * sizeof(float));
    t[r] = now() - start;
    sink += out[(size_t)(r % batch) * w];
  }
  double sum = 0;
  for (int r = 0; r < repeats; r++) sum += t[r];
  qsort(t, repeats, sizeof(double), cmp);
  printf("{\"rows\": %zu, \"floats_per_row\": %zu, \"batch\": %d, \"microseconds_mean\": %.3f, \"microseconds_median\": %.3f, \"microseconds_best\": %.3f}\n",
         n, w, batch, sum / repeats * 1e6, t[repeats / 2] * 1e6, t[0] * 1e6);
  return 0;
}
