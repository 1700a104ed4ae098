#ifndef STITCH_PEAK_H
#define STITCH_PEAK_H

/// The single-core FMA peak of this CPU, measured: FLOP/s of a loop of independent fused multiply-adds on
/// the widest vectors the CPU runs (AVX-512 where /proc/cpuinfo lists avx512f, else AVX2 + FMA), the best of
/// both where both exist, since some CPUs (AMD Zen 4) run 512-bit FMAs as two 256-bit halves and others
/// (Zen 5, Intel server parts) at full width. Benchmarks divide by this ("fma_peak_fraction") instead of a
/// constant for one machine kind: the same binary runs on CPUs whose peak differs by 2x.
///
/// Sixteen independent accumulators cover an FMA latency of 4 cycles on two pipes (Agner Fog's instruction
/// tables give 4 cycles and 2 per cycle for Zen 4/5 and Skylake-SP), so the loop is bound by throughput.

#ifdef __cplusplus
extern "C" {
#endif

/// GFLOP/s (2 FLOP per lane per FMA) of the FMA loop on the calling thread, best of `repeats` timings of
/// `iterations` loop trips each; `use_avx512` chooses 512-bit vectors (only call it where the CPU has avx512f)
/// or 256-bit AVX2 + FMA (only where it has avx2 and fma). Returns 0 for non-positive arguments.
double stitch_fma_peak_gflops(int use_avx512, long iterations, int repeats);

#ifdef __cplusplus
}
#endif

#endif
