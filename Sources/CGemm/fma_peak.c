// The FMA-throughput loop behind stitch_fma_peak_gflops (see include/stitch_peak.h).
#include "stitch_peak.h"

#include <immintrin.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Sixteen chains of x = x * m + a, which stay near their fixed point a / (1 - m) = 1 for any iteration count (no
// overflow, no denormal slow paths). m and a are read through volatiles so the compiler cannot fold the loop
// (with constants it finds that one step leaves x unchanged in float and deletes the loop), and the sum is
// returned so it cannot drop it.
static volatile float multiplier = 0.999f, addend = 0.001f;
__attribute__((target("avx512f"))) static float fma_loop_512(long iterations) {
  __m512 x[16];
  for (int i = 0; i < 16; i++) x[i] = _mm512_set1_ps(1.0f + 0.001f * (float)i);
  const __m512 m = _mm512_set1_ps(multiplier), a = _mm512_set1_ps(addend);
  for (long t = 0; t < iterations; t++) {
    for (int i = 0; i < 16; i++) x[i] = _mm512_fmadd_ps(x[i], m, a);
  }
  __m512 s = x[0];
  for (int i = 1; i < 16; i++) s = _mm512_add_ps(s, x[i]);
  return _mm512_reduce_add_ps(s);
}

// AVX2 has 16 vector registers: 12 accumulators plus the two constants.
__attribute__((target("avx2,fma"))) static float fma_loop_256(long iterations) {
  __m256 x[12];
  for (int i = 0; i < 12; i++) x[i] = _mm256_set1_ps(1.0f + 0.001f * (float)i);
  const __m256 m = _mm256_set1_ps(multiplier), a = _mm256_set1_ps(addend);
  for (long t = 0; t < iterations; t++) {
    for (int i = 0; i < 12; i++) x[i] = _mm256_fmadd_ps(x[i], m, a);
  }
  __m256 s = x[0];
  for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, x[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

double stitch_fma_peak_gflops(int use_avx512, long iterations, int repeats) {
  if (iterations <= 0 || repeats <= 0) return 0;
  const double flops = use_avx512 ? 16.0 * 16.0 * 2.0 : 12.0 * 8.0 * 2.0;  // per loop trip
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < repeats; r++) {
    const double t0 = now_seconds();
    sink += use_avx512 ? fma_loop_512(iterations) : fma_loop_256(iterations);
    const double dt = now_seconds() - t0;
    if (dt > 0 && flops * (double)iterations / dt > best) best = flops * (double)iterations / dt;
  }
  (void)sink;
  return best / 1e9;
}
